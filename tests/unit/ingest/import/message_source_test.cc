#include "ingest/import/message_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/ingest/import/scan_test_util.h"

namespace mailvault::ingest {
namespace {

using testing::make_dirs;
using testing::scan;
using testing::TempDir;
using testing::write_file;

constexpr std::string_view kMessage = "From: a@example.com\nSubject: hello\n\nbody\n";

std::vector<std::string> paths_of(const testing::ScanResult& r) {
  std::vector<std::string> out;
  for (const auto& m : r.messages) {
    out.push_back(m.path);
  }
  return out;
}

TEST(ScanSources, MissingPath) {
  TempDir dir;
  const auto r = scan({dir / "nope", dir / "nope/deeper"});
  EXPECT_TRUE(r.messages.empty());
  ASSERT_EQ(r.problems.size(), 2U);
  EXPECT_EQ(r.problems[0].path, dir / "nope");
  EXPECT_EQ(r.problems[0].reason, "no such file or directory");
  EXPECT_EQ(r.problems[0].offset, std::nullopt);
}

TEST(ScanSources, PathThroughARegularFile) {
  TempDir dir;
  write_file(dir / "a.eml", kMessage);
  const auto r = scan({dir / "a.eml/x"});
  ASSERT_EQ(r.problems.size(), 1U);
  EXPECT_EQ(r.problems[0].reason, "Not a directory");
}

TEST(ScanSources, SingleEmlFileIsKeptByteForByte) {
  TempDir dir;
  // Malformed (no blank line, 8-bit, NUL after 64 KiB) but starts with header lines.
  std::string raw = "Subject: x\r\nX-Bad \x80\xff\n" + std::string(std::size_t{70} * 1024, 'z');
  raw += '\0';
  write_file(dir / "m.eml", raw, 1000000000);
  const auto r = scan({dir / "m.eml"});
  ASSERT_EQ(r.messages.size(), 1U) << (r.problems.empty() ? "" : r.problems[0].reason);
  const auto& m = r.messages[0];
  EXPECT_EQ(m.raw, raw);
  EXPECT_EQ(m.path, dir / "m.eml");
  EXPECT_EQ(m.offset, std::nullopt);
  EXPECT_EQ(m.folder, "");
  EXPECT_EQ(m.internal_date, 1000000000);
  EXPECT_TRUE(m.flags.empty());
}

TEST(ScanSources, EmlStartingWithFromLineIsOneMessage) {
  TempDir dir;
  const std::string raw =
      "From a@b Sat Jan  3 01:05:34 1996\nSubject: x\n\nquoted mbox:\n\nFrom b Sat Jan  3 "
      "01:05:34 1996\nSubject: y\n";
  write_file(dir / "m.EML", raw);
  const auto r = scan({dir.path()});
  ASSERT_EQ(r.messages.size(), 1U);
  EXPECT_EQ(r.messages[0].raw, raw);
  EXPECT_EQ(r.messages[0].offset, std::nullopt);
}

TEST(ScanSources, RefusedFiles) {
  TempDir dir;
  write_file(dir / "empty.eml", "");
  write_file(dir / "image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  write_file(dir / "zeros.eml", std::string("Subject: x\n\0", 12));
  write_file(dir / "notes.txt", "Shopping list\n- milk\n");
  write_file(dir / "ok.txt", kMessage);
  const auto r = scan({dir.path()});
  ASSERT_EQ(r.messages.size(), 1U);
  EXPECT_EQ(r.messages[0].path, dir / "ok.txt");
  ASSERT_EQ(r.problems.size(), 4U);
  EXPECT_EQ(r.problem_for(dir / "empty.eml")->reason, "empty file");
  EXPECT_EQ(r.problem_for(dir / "image.png")->reason, "not an RFC 5322 message (binary data)");
  EXPECT_EQ(r.problem_for(dir / "zeros.eml")->reason, "not an RFC 5322 message (binary data)");
  EXPECT_EQ(r.problem_for(dir / "notes.txt")->reason, "not an RFC 5322 message (no header fields)");
}

TEST(ScanSources, OversizeMessagesAreReportedAndTheScanContinues) {
  TempDir dir;
  const std::string big = "Subject: big\n\n" + std::string(100, 'x') + "\n";
  write_file(dir / "a-big.eml", big);
  write_file(dir / "b-small.eml", kMessage);
  write_file(dir / "c.mbox", "From a Sat Jan  3 01:05:34 1996\n" + big +
                                 "\nFrom b Sat Jan  3 01:05:34 1996\n" + std::string(kMessage));
  ImportScanOptions options;
  options.max_message_size = 50;
  const auto r = scan({dir.path()}, options);
  ASSERT_EQ(r.problems.size(), 2U);
  EXPECT_EQ(r.problems[0].path, dir / "a-big.eml");
  EXPECT_EQ(r.problems[0].reason, "message is 115 bytes, over the limit of 50");
  EXPECT_EQ(r.problems[1].path, dir / "c.mbox");
  EXPECT_EQ(r.problems[1].offset, 32U);
  EXPECT_EQ(r.problems[1].reason, "message is 115 bytes, over the limit of 50");
  ASSERT_EQ(r.messages.size(), 2U);
  EXPECT_EQ(r.messages[0].path, dir / "b-small.eml");
  EXPECT_EQ(r.messages[1].path, dir / "c.mbox");
  EXPECT_EQ(r.messages[1].raw, kMessage);
}

TEST(ScanSources, MboxMessages) {
  TempDir dir;
  const std::string data =
      "From alice@example.com Sat Jan  3 01:05:34 1996\n"
      "Subject: one\n\none\n\n"
      "From - \n"
      "Subject: two\n\ntwo\n\n"
      "From c\n"
      "\n"
      "From d Sun Jan  4 00:00:00 1996\n"
      "Subject: four\n\nfour";
  write_file(dir / "Archive.2019.mbox", data, 5);
  const auto r = scan({dir / "Archive.2019.mbox"});
  ASSERT_EQ(r.messages.size(), 3U);
  EXPECT_EQ(r.messages[0].raw, "Subject: one\n\none\n");
  EXPECT_EQ(r.messages[0].offset, data.find("Subject: one"));
  EXPECT_EQ(r.messages[0].internal_date, 820631134);
  EXPECT_EQ(r.messages[0].folder, "Archive.2019");
  EXPECT_EQ(r.messages[1].internal_date, 0);  // "From - " has no date
  EXPECT_EQ(r.messages[2].raw, "Subject: four\n\nfour");
  EXPECT_EQ(r.messages[2].internal_date, 820631134 + 86400 - 3600 - 5 * 60 - 34);
  for (const auto& m : r.messages) {
    EXPECT_EQ(data.substr(static_cast<std::size_t>(*m.offset), m.raw.size()), m.raw);
    EXPECT_TRUE(m.flags.empty());
  }
  ASSERT_EQ(r.problems.size(), 1U);
  EXPECT_EQ(r.problems[0].reason, "empty message");
  EXPECT_EQ(r.problems[0].offset, data.find("\nFrom d"));
}

TEST(ScanSources, MboxClassifiedByContentNotName) {
  TempDir dir;
  write_file(dir / "Inbox", "From a\nSubject: x\n\nx\n");                  // Thunderbird
  write_file(dir / "Inbox.msf", "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n");  // its summary
  write_file(dir / "notmbox.mbox", kMessage);
  write_file(dir / "empty.mbox", "");
  write_file(dir / "bom",
             "\xEF\xBB\xBF"
             "From -\nSubject: y\n");
  const auto r = scan({dir.path()});
  EXPECT_TRUE(r.problems.empty()) << r.problems[0].path << ": " << r.problems[0].reason;
  ASSERT_EQ(r.messages.size(), 3U);
  EXPECT_EQ(r.messages[0].path, dir / "Inbox");
  EXPECT_EQ(r.messages[0].folder, "Inbox");
  EXPECT_EQ(r.messages[0].offset, 7U);
  EXPECT_EQ(r.messages[1].path, dir / "bom");
  EXPECT_EQ(r.messages[1].raw, "Subject: y\n");
  EXPECT_EQ(r.messages[1].offset, 10U);
  EXPECT_EQ(r.messages[2].path, dir / "notmbox.mbox");
  EXPECT_EQ(r.messages[2].offset, std::nullopt);
  EXPECT_EQ(r.messages[2].folder, "");
}

TEST(ScanSources, Maildir) {
  TempDir dir;
  const std::string md = dir / "Mail";
  write_file(md + "/cur/1000.1.host:2,SR", "Subject: seen\n\n", 1111);
  write_file(md + "/cur/1001.1.host:2,FT", "Subject: flagged\n\n", 2222);
  write_file(md + "/cur/1002.1.host:2,", "Subject: none\n\n");
  write_file(md + "/cur/.hidden", "Subject: hidden\n\n");
  write_file(md + "/new/1003.1.host", "Subject: new\n\n", 3333);
  write_file(md + "/tmp/1004.1.host", "Subject: in delivery\n\n");
  write_file(md + "/dovecot-uidlist", "3 V1 N1\n");
  write_file(md + "/dovecot.index.log", std::string("\0\1", 2));
  write_file(md + "/subscriptions", "Sent\n");
  write_file(md + "/.Sent/cur/2000.1.host:2,S", "Subject: sent\n\n");
  write_file(md + "/.Sent/maildirfolder", "");
  write_file(md + "/.Lists.dev/new/3000.1.host", "Subject: dev\n\n");
  make_dirs(md + "/.Lists.dev/tmp");
  make_dirs(md + "/.Empty/cur");
  write_file(md + "/.Trash/tmp/x", "Subject: tmp only\n\n");
  const auto r = scan({md});
  EXPECT_TRUE(r.problems.empty()) << r.problems[0].path << ": " << r.problems[0].reason;
  ASSERT_EQ(r.messages.size(), 6U);

  struct Expected {
    std::string path;
    std::string folder;
    std::vector<std::string> flags;
  };

  const std::vector<Expected> expected = {
      {md + "/.Lists.dev/new/3000.1.host", "Lists/dev", {}},
      {md + "/.Sent/cur/2000.1.host:2,S", "Sent", {"\\Seen"}},
      {md + "/cur/1000.1.host:2,SR", "INBOX", {"\\Seen", "\\Answered"}},
      {md + "/cur/1001.1.host:2,FT", "INBOX", {"\\Flagged", "\\Deleted"}},
      {md + "/cur/1002.1.host:2,", "INBOX", {}},
      {md + "/new/1003.1.host", "INBOX", {}},
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].path);
    EXPECT_EQ(r.messages[i].path, expected[i].path);
    EXPECT_EQ(r.messages[i].folder, expected[i].folder);
    EXPECT_EQ(r.messages[i].flags, expected[i].flags);
    EXPECT_EQ(r.messages[i].raw, testing::read_file(expected[i].path));
    EXPECT_EQ(r.messages[i].offset, std::nullopt);
  }
  EXPECT_EQ(r.messages[2].internal_date, 1111);
  EXPECT_EQ(r.messages[3].internal_date, 2222);
  EXPECT_EQ(r.messages[5].internal_date, 3333);
}

TEST(ScanSources, MaildirFileStartingWithFromLineIsOneMessage) {
  TempDir dir;
  const std::string raw = "From a Sat Jan  3 01:05:34 1996\nSubject: x\n\nbody\n\nFrom b\nz: 1\n";
  write_file(dir / "cur/1.host:2,S", raw);
  const auto r = scan({dir.path()});
  ASSERT_EQ(r.messages.size(), 1U);
  EXPECT_EQ(r.messages[0].raw, raw);
  EXPECT_EQ(r.messages[0].folder, "INBOX");
}

TEST(ScanSources, MaildirProblems) {
  TempDir dir;
  write_file(dir / "new/empty", "");
  write_file(dir / "new/binary", std::string("\0\0\0", 3));
  make_dirs(dir / "cur/stray");
  const auto r = scan({dir.path()});
  EXPECT_TRUE(r.messages.empty());
  ASSERT_EQ(r.problems.size(), 3U);
  EXPECT_EQ(r.problem_for(dir / "cur/stray")->reason,
            "directory inside a Maildir cur/new folder, not scanned");
  EXPECT_EQ(r.problem_for(dir / "new/empty")->reason, "empty file");
  EXPECT_EQ(r.problem_for(dir / "new/binary")->reason, "not an RFC 5322 message (binary data)");
}

TEST(ScanSources, NestedDirectoriesAndMaildirsBelowTheGivenPath) {
  TempDir dir;
  write_file(dir / "top.eml", kMessage);
  write_file(dir / "2019/jan/a.eml", kMessage);
  write_file(dir / "2019/jan/b.eml", kMessage);
  write_file(dir / "2019/feb.mbox", "From x\n" + std::string(kMessage));
  write_file(dir / "accounts/work/cur/1.host:2,S", kMessage);
  write_file(dir / "accounts/work/.Sent/cur/2.host:2,S", kMessage);
  write_file(dir / "accounts/work/archive/new/3.host", kMessage);  // FS-layout subfolder
  write_file(dir / ".DS_Store", std::string("\0\0\0\1Bud1", 8));
  write_file(dir / "2019/.DS_Store", std::string("\0\0\0\1Bud1", 8));
  write_file(dir / "2019/jan/folder.lock", "");
  const auto r = scan({dir.path()});
  EXPECT_TRUE(r.problems.empty()) << r.problems[0].path << ": " << r.problems[0].reason;
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& m : r.messages) {
    got.emplace_back(m.path.substr(dir.path().size() + 1), m.folder);
  }
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"2019/feb.mbox", "2019/feb"},
      {"2019/jan/a.eml", "2019/jan"},
      {"2019/jan/b.eml", "2019/jan"},
      {"accounts/work/.Sent/cur/2.host:2,S", "accounts/work/Sent"},
      {"accounts/work/archive/new/3.host", "accounts/work/archive"},
      {"accounts/work/cur/1.host:2,S", "accounts/work"},
      {"top.eml", ""},
  };
  EXPECT_EQ(got, expected);
}

TEST(ScanSources, OrderIsByteOrderOfFullPaths) {
  TempDir dir;
  for (const char* name :
       {"a.eml", "a/b.eml", "a-b.eml", "B.eml", "a/a/z.eml", "\xC3\xA9.eml", "a0.eml"}) {
    write_file(dir / name, kMessage);
  }
  const auto r = scan({dir.path()});
  const auto paths = paths_of(r);
  ASSERT_EQ(paths.size(), 7U);
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end())) << ::testing::PrintToString(paths);
  // Arguments are handled in the order given.
  const auto r2 = scan({dir / "a0.eml", dir / "B.eml"});
  EXPECT_EQ(paths_of(r2), (std::vector<std::string>{dir / "a0.eml", dir / "B.eml"}));
}

TEST(ScanSources, SymlinksAreNotFollowedByDefault) {
  TempDir dir;
  write_file(dir / "real/a.eml", kMessage);
  write_file(dir / "elsewhere/b.eml", kMessage);
  ASSERT_EQ(::symlink("../elsewhere", (dir / "real/link").c_str()), 0);
  ASSERT_EQ(::symlink("../elsewhere/b.eml", (dir / "real/file-link.eml").c_str()), 0);
  const auto r = scan({dir / "real"});
  ASSERT_EQ(r.messages.size(), 1U);
  ASSERT_EQ(r.problems.size(), 2U);
  EXPECT_EQ(r.problems[0].path, dir / "real/file-link.eml");
  EXPECT_EQ(r.problems[0].reason, "symbolic link not followed (follow_symlinks is off)");
  EXPECT_EQ(r.problems[1].path, dir / "real/link");

  // A symbolic link given as an argument is followed.
  ASSERT_EQ(::symlink("real", (dir / "arg-link").c_str()), 0);
  EXPECT_EQ(scan({dir / "arg-link"}).problems.size(), 2U);
  EXPECT_EQ(scan({dir / "arg-link"}).messages.size(), 1U);
}

TEST(ScanSources, FollowedSymlinks) {
  TempDir dir;
  write_file(dir / "real/a.eml", kMessage);
  write_file(dir / "elsewhere/b.eml", kMessage);
  ASSERT_EQ(::symlink("../elsewhere", (dir / "real/link").c_str()), 0);
  ASSERT_EQ(::symlink("../elsewhere/b.eml", (dir / "real/file-link.eml").c_str()), 0);
  ASSERT_EQ(::symlink("../nowhere", (dir / "real/dangling").c_str()), 0);
  ImportScanOptions options;
  options.follow_symlinks = true;
  const auto r = scan({dir / "real"}, options);
  EXPECT_EQ(paths_of(r), (std::vector<std::string>{dir / "real/a.eml", dir / "real/file-link.eml",
                                                   dir / "real/link/b.eml"}));
  EXPECT_EQ(r.message_for(dir / "real/link/b.eml")->folder, "link");
  ASSERT_EQ(r.problems.size(), 1U);
  EXPECT_EQ(r.problems[0].path, dir / "real/dangling");
  EXPECT_EQ(r.problems[0].reason, "dangling symbolic link");
}

TEST(ScanSources, SymlinkLoops) {
  TempDir dir;
  write_file(dir / "top/sub/a.eml", kMessage);
  ASSERT_EQ(::symlink("..", (dir / "top/sub/up").c_str()), 0);
  ASSERT_EQ(::symlink("loop2", (dir / "top/loop1").c_str()), 0);
  ASSERT_EQ(::symlink("loop1", (dir / "top/loop2").c_str()), 0);
  ASSERT_EQ(::symlink("sub", (dir / "top/z-sub-again").c_str()), 0);
  ImportScanOptions options;
  options.follow_symlinks = true;
  const auto r = scan({dir / "top"}, options);
  ASSERT_EQ(r.messages.size(), 1U);
  EXPECT_EQ(r.messages[0].path, dir / "top/sub/a.eml");
  ASSERT_EQ(r.problems.size(), 4U) << ::testing::PrintToString(r.problems.size());
  EXPECT_EQ(r.problem_for(dir / "top/sub/up")->reason,
            "symbolic link loop (leads back to " + dir / "top" + ")");
  EXPECT_EQ(r.problem_for(dir / "top/z-sub-again")->reason,
            "directory already scanned as " + dir / "top/sub");
  EXPECT_EQ(r.problem_for(dir / "top/loop1")->reason,
            "cannot follow symbolic link: Too many levels of symbolic links");

  // The same loop without following: reported, not walked.
  const auto r2 = scan({dir / "top"});
  EXPECT_EQ(r2.messages.size(), 1U);
  EXPECT_EQ(r2.problems.size(), 4U);
}

TEST(ScanSources, OverlappingArgumentsAreScannedOnce) {
  TempDir dir;
  write_file(dir / "a/b/m.eml", kMessage);
  const auto r = scan({dir / "a/b", dir / "a"});
  ASSERT_EQ(r.messages.size(), 1U);
  EXPECT_EQ(r.messages[0].folder, "");
  ASSERT_EQ(r.problems.size(), 1U);
  EXPECT_EQ(r.problems[0].reason, "directory already scanned as " + dir / "a/b");
}

TEST(ScanSources, SpecialFiles) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  write_file(dir / "m.eml", kMessage);
  const auto r = scan({dir.path(), dir / "fifo", "/dev/null"});
  EXPECT_EQ(r.messages.size(), 1U);
  ASSERT_EQ(r.problems.size(), 3U);
  EXPECT_EQ(r.problems[0].path, dir / "fifo");
  EXPECT_EQ(r.problems[0].reason, "not a regular file or directory");
  EXPECT_EQ(r.problems[2].path, "/dev/null");
  EXPECT_EQ(r.problems[2].reason, "not a regular file or directory");
}

TEST(ScanSources, UnreadableFilesAndDirectories) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: permissions do not stop root from reading";
  }
  TempDir dir;
  write_file(dir / "locked.eml", kMessage);
  write_file(dir / "closed/m.eml", kMessage);
  ASSERT_EQ(::chmod((dir / "locked.eml").c_str(), 0), 0);
  ASSERT_EQ(::chmod((dir / "closed").c_str(), 0), 0);
  const auto r = scan({dir.path()});
  EXPECT_TRUE(r.messages.empty());
  ASSERT_EQ(r.problems.size(), 2U);
  EXPECT_EQ(r.problem_for(dir / "closed")->reason, "cannot open directory: Permission denied");
  EXPECT_EQ(r.problem_for(dir / "locked.eml")->reason, "cannot open: Permission denied");
  ::chmod((dir / "closed").c_str(), 0700);
}

}  // namespace
}  // namespace mailvault::ingest
