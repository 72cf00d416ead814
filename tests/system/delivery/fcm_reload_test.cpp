// SPDX-License-Identifier: BSD-2-Clause
// Reload (SIGHUP) with an Android app, end to end: the service account file replaced in place
// (same path, another account: the connection is replaced and the next pushes go out for the new
// project), and a broken one refused with its file, line and problem while the running account
// keeps delivering.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/system/delivery/e2e.hpp"

namespace pushsync::sender::e2e {
namespace {

// Written whole, then renamed over: the sender never reads half a file.
void replace_file(const std::filesystem::path& path, const std::string& text) {
    const auto tmp = path.string() + ".tmp";
    write_file(tmp, text);
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_read);
    std::filesystem::rename(tmp, path);
}

const std::string android = "fDev1xQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_reload";

TEST(SenderReloadFcm, AServiceAccountReplacedInPlaceTakesOverAndABrokenOneIsRefused) {
    TempDir dir;
    Stack::Options o;
    o.fcm = true;
    o.fcm_options.projects = {"project-old", "project-new"};
    o.start_sender = false;
    Stack s(o);
    // The sender's file: a copy of the old project's, at a path of its own.
    const auto account = dir.path() / "fcm-account.json";
    replace_file(account, read_file(s.fcm_sim->service_account("project-old").file));
    std::string yaml = read_file(s.nginx.config_path());
    const std::string old_path = s.fcm_sim->service_account("project-old").file.string();
    yaml.replace(yaml.find(old_path), old_path.size(), account.string());
    write_file(s.nginx.config_path(), yaml);
    s.start_sender();

    const std::string ios = token(1);
    s.register_device("g", ios);
    s.register_fcm_device("g", android);
    int tail = 0;
    const auto delivered_for = [&](const std::string& project) {
        const std::string t = "T" + std::to_string(++tail);
        s.notify("g", t, ios);
        return wait_until([&] {
            for (const auto& e : s.fcm_sends()) {
                if (e.value("tail", "") == t && e.value("status", 0) == 200 &&
                    e.value("path", "") == "/v1/projects/" + project + "/messages:send") {
                    return true;
                }
            }
            return false;
        });
    };
    ASSERT_TRUE(delivered_for("project-old"));

    replace_file(account, read_file(s.fcm_sim->service_account("project-new").file));
    ASSERT_TRUE(reload_sender(s, "config.reloaded"));
    EXPECT_TRUE(delivered_for("project-new")) << read_file(s.sender_log());

    // Not a service account: the running one stays, one line names the file's line and problem.
    replace_file(account, R"({"type":"authorized_user"})");
    ASSERT_TRUE(reload_sender(s, "config.reload_failed"));
    const std::string log = read_file(s.sender_log());
    const std::string failed = log.substr(log.rfind("config.reload_failed"));
    EXPECT_NE(failed.find("apps[1].auth.file: " + account.string() + ": type: "), std::string::npos) << failed;
    EXPECT_TRUE(delivered_for("project-new")) << read_file(s.sender_log());
}

}  // namespace
}  // namespace pushsync::sender::e2e
