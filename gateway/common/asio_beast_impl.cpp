// Asio and Beast compiled once for the whole project (BOOST_*_SEPARATE_COMPILATION), as Beast's own
// test/lib_asio.cpp and test/lib_beast.cpp do: every other file includes only declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
