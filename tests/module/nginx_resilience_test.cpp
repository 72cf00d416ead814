#include <gtest/gtest.h>
TEST(Placeholder, Resilience) {}
