#include "ingest/import/message_check.h"

#include <string>

#include <gtest/gtest.h>

#include "ingest/import/maildir.h"

namespace mailvault::ingest {
namespace {

TEST(CheckSingleMessage, AcceptsMessagesThatStartWithAHeaderOrFromLine) {
  EXPECT_EQ(check_single_message("Subject: hi\n\nbody\n"), std::nullopt);
  EXPECT_EQ(check_single_message("X-Odd-Name_1.2 : value\r\n"), std::nullopt);
  EXPECT_EQ(check_single_message("From a@b Sat Jan  3 01:05:34 1996\nSubject: x\n"), std::nullopt);
  EXPECT_EQ(check_single_message("\xEF\xBB\xBF"
                                 "From: a@b\n"),
            std::nullopt);
  // Malformed, but mail: kept byte for byte.
  EXPECT_EQ(check_single_message("Received: x\n  y\nno colon here\n\x80\xff\n"), std::nullopt);
  EXPECT_EQ(check_single_message("Subject:"), std::nullopt);
}

TEST(CheckSingleMessage, RefusesWhatIsNotMail) {
  EXPECT_EQ(check_single_message(""), "empty file");
  EXPECT_EQ(check_single_message(std::string("Subject: x\n\n\0\1", 14)),
            "not an RFC 5322 message (binary data)");
  EXPECT_EQ(check_single_message("\x89PNG\r\n\x1a\n"),
            "not an RFC 5322 message (no header fields)");
  EXPECT_EQ(check_single_message("# a README\n"), "not an RFC 5322 message (no header fields)");
  EXPECT_EQ(check_single_message("\nSubject: x\n"), "not an RFC 5322 message (no header fields)");
  EXPECT_EQ(check_single_message(": x\n"), "not an RFC 5322 message (no header fields)");
  EXPECT_EQ(check_single_message("two words: x\n"), "not an RFC 5322 message (no header fields)");
  EXPECT_EQ(check_single_message(" Subject: x\n"), "not an RFC 5322 message (no header fields)");
  EXPECT_EQ(check_single_message("Subject\nx: y\n"), "not an RFC 5322 message (no header fields)");
}

TEST(CheckSingleMessage, OnlyTheFirst64KiBAreSearchedForNul) {
  std::string late_nul = "Subject: x\n\n" + std::string(kSniffBytes, 'a');
  late_nul += '\0';
  EXPECT_EQ(check_single_message(late_nul), std::nullopt);
}

TEST(MaildirFlags, MapsInfoLettersToImapFlags) {
  using Flags = std::vector<std::string>;
  EXPECT_EQ(maildir_flags("1220863042.12663_1.mindcrime:2,FRS"),
            (Flags{"\\Seen", "\\Answered", "\\Flagged"}));
  EXPECT_EQ(maildir_flags("1.2.host:2,DT"), (Flags{"\\Deleted", "\\Draft"}));
  EXPECT_EQ(maildir_flags("1.2.host:2,"), Flags{});
  EXPECT_EQ(maildir_flags("1.2.host:2,Pab"), Flags{});
  EXPECT_EQ(maildir_flags("1.2.host!2,S"), Flags{"\\Seen"});
  EXPECT_EQ(maildir_flags("1.2.host;2,S"), Flags{"\\Seen"});
  EXPECT_EQ(maildir_flags("1.2.host"), Flags{});
  EXPECT_EQ(maildir_flags("1.2.host:1,S"), Flags{});
  EXPECT_EQ(maildir_flags("1.2.host,S=1234:2,S"), Flags{"\\Seen"});
}

TEST(MaildirFolders, MaildirPlusPlusNames) {
  EXPECT_EQ(maildir_plus_plus_folder(".Sent"), "Sent");
  EXPECT_EQ(maildir_plus_plus_folder(".Sub.Folder"), "Sub/Folder");
  EXPECT_EQ(maildir_plus_plus_folder(".a.b.c"), "a/b/c");
}

TEST(ControlFiles, KnownNamesAreSkipped) {
  for (const char* name :
       {".DS_Store", "dovecot.index", "dovecot.index.log", "dovecot-uidlist", "dovecot-keywords",
        "maildirfolder", ".mbsyncstate", ".mbsyncstate.journal", ".uidvalidity", "inbox.lock",
        "courierimapuiddb", "subscriptions", "Inbox.msf", "._1234.eml", ".notmuch"}) {
    EXPECT_TRUE(is_mail_store_control_file(name)) << name;
  }
  for (const char* name : {"Inbox", "1.2.host:2,S", "mail.eml", "lock", ".Sent", "cur"}) {
    EXPECT_FALSE(is_mail_store_control_file(name)) << name;
  }
}

}  // namespace
}  // namespace mailvault::ingest
