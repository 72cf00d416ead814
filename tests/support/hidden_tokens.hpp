// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The hidden-token check: a full device token in a log is a token handed to everyone who reads
// the log, so every log a whole-stack test produced (nginx's access and error logs, the sender's
// log, the CLI's output that goes to the journal) may name a device by its prefix only.
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pushsync::test {

class NginxFixture;

// Every full token seen, the place it was seen in.
struct TokenSighting {
    std::string file;  // a path, or the name given to a captured text ("pushsyncctl gc stdout")
    std::size_t line = 0;
    std::string text;  // the line, cut to a readable length
};

// Tokens are matched ignoring case (a client may send a hex token in capitals), in each line as it
// is and with its %XX escapes decoded (a request line may carry a token escaped). Tokens shorter
// than 16 characters are no full token of any platform and are skipped, so a prefix passed by
// mistake finds nothing. A file that does not exist is skipped.
std::vector<TokenSighting> full_tokens_in_files(const std::set<std::string>& tokens,
                                                const std::vector<std::filesystem::path>& files);
std::vector<TokenSighting> full_tokens_in_text(const std::set<std::string>& tokens, std::string_view name,
                                               std::string_view text);

// Every *.log file nginx wrote under the fixture's prefix/logs (access, error, master's stderr).
std::vector<std::filesystem::path> nginx_logs(const NginxFixture& nginx);

// One "FILE:LINE: full token in: TEXT" line per sighting; "" when there is none.
std::string describe(const std::vector<TokenSighting>& sightings);

}  // namespace pushsync::test
