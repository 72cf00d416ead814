// SPDX-License-Identifier: BSD-2-Clause
// The store's disk fills up: the store folder is a small tmpfs the test mounts (root only; skipped
// with the reason elsewhere), a filler file takes most of it, and registrations go on until the
// disk refuses. They must get 507 store_full, the store must stay sound, the sender must keep
// delivering notifies for devices already registered, and once the filler is removed,
// registrations work again.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

namespace fs = std::filesystem;

class TmpfsMount {
public:
    TmpfsMount(const fs::path& at, const std::string& size) : at_(at) {
        fs::create_directories(at);
        const std::string options = "size=" + size + ",mode=2770";
        if (::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()) != 0) error_ = std::strerror(errno);
    }
    ~TmpfsMount() {
        if (error_.empty()) ::umount2(at_.c_str(), MNT_DETACH);
    }
    const std::string& error() const noexcept { return error_; }

private:
    fs::path at_;
    std::string error_;
};

std::uintmax_t free_bytes(const fs::path& p) { return fs::space(p).available; }

TEST(DiskFull, RegistrationsGet507TheStoreStaysSoundDeliveryGoesOnAndSpaceFreedHeals) {
    if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs for the store needs root";
    Stack::Options options;
    options.start_nginx = false;
    options.start_sender = false;
    Stack stack(options);
    TmpfsMount mount(stack.nginx.store_path(), "6m");
    if (!mount.error().empty()) GTEST_SKIP() << "mount -t tmpfs refused: " << mount.error();
    stack.nginx.start();
    stack.start_sender();

    // Two devices registered while there is room: the notify targets.
    stack.register_device("disk-g", token(1));
    stack.register_device("disk-g", token(2));

    // A filler leaves about 300 KiB free: the store runs out long before its 64 MiB map does.
    const fs::path filler = stack.nginx.store_path() / "filler";
    {
        std::ofstream out(filler, std::ios::binary);
        const std::string block(64 * 1024, 'x');
        while (free_bytes(stack.nginx.store_path()) > 300 * 1024) out.write(block.data(), block.size()), out.flush();
    }

    int answered_507 = 0;
    int i = 100;
    for (; i < 20000 && answered_507 == 0; ++i) {
        const auto r = stack.nginx.request("PUT", "/v1/groups/disk-fill-" + std::to_string(i % 50) + "/devices/" + token(i),
                                           R"({"bundle_id":"com.example.app","app_version":"1.0"})");
        if (r.status == 507) {
            ++answered_507;
            EXPECT_EQ(nlohmann::json::parse(r.body).value("error", ""), "store_full") << r.body;
        } else {
            ASSERT_TRUE(r.status == 201) << "registration " << i << ": " << r.status << " " << r.body << r.error
                                         << stack.nginx.error_log();
        }
    }
    ASSERT_EQ(answered_507, 1) << "the disk never filled";
    const int first_refused = i - 1;

    // Delivery goes on for the devices already there.
    stack.notify("disk-g", "T-disk-1", token(1));
    ASSERT_TRUE(wait_until([&] { return stack.delivered_to(token(2)) == 1; }, std::chrono::seconds(20)))
        << read_file(stack.sender_log());
    EXPECT_EQ(stack.requests_for(token(2)).back().value("payload", ""), R"({"aps":{"content-available":1},"tail":"T-disk-1"})");

    // The store is sound: pushsyncctl check passes and every answered registration is there.
    const std::string ctl = (binary_dir() / "cli" / "pushsyncctl").string();
    const auto check = run({ctl, "--config", stack.nginx.config_path().string(), "check"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    const auto device = run({ctl, "--config", stack.nginx.config_path().string(), "device", token(first_refused - 1)});
    EXPECT_EQ(device.exit_code, 0) << device.out << device.err;
    const auto refused = run({ctl, "--config", stack.nginx.config_path().string(), "device", token(first_refused)});
    EXPECT_EQ(refused.exit_code, 1) << "a registration answered 507 was stored: " << refused.out;

    // Space freed: registrations work again, and so does delivery.
    fs::remove(filler);
    const auto again = stack.nginx.request("PUT", "/v1/groups/disk-g/devices/" + token(first_refused),
                                           R"({"bundle_id":"com.example.app"})");
    EXPECT_EQ(again.status, 201) << again.body;
    stack.notify("disk-g", "T-disk-2", token(1));
    EXPECT_TRUE(wait_until([&] { return stack.delivered_to(token(first_refused)) == 1; }, std::chrono::seconds(20)));
    EXPECT_TRUE(stack.wait_outbox_empty());
    EXPECT_TRUE(stack.sender.running());
    stack.stop_sender();
    stack.nginx.stop();
}

}  // namespace
}  // namespace pushsync::sender::e2e
