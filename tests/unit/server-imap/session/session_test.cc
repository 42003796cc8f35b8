// Scripted sessions (client lines in, exact server lines out) against a fake backend: the
// protocol engine without sockets or PostgreSQL.
#include "server-imap/session/session.h"

#include <map>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

const std::string kMsg1 = "From: a@example.org\r\nSubject: one\r\n\r\nHello\r\n";
const std::string kMsg2 = "From: b@example.org\nSubject: two\n\nsecond body\n";

class FakeBackend : public SessionBackend {
 public:
  Result<Viewer> authenticate(std::string_view user, std::string_view password) override {
    if (user == "alice" && password == "secret")
      return Viewer{1, "alice", false};
    return make_error(Code::kUnauthenticated, "no");
  }

  Result<std::vector<MailboxRef>> list(const Viewer& /*viewer*/) override {
    return std::vector<MailboxRef>{MailboxRef{},
                                   MailboxRef{MailboxRef::Kind::kAccountFolder, "work", "INBOX"}};
  }

  Result<std::optional<Snapshot>> open(const Viewer& /*viewer*/, std::string_view name) override {
    if (name != "All Mail" && name != "work/INBOX")
      return std::optional<Snapshot>{};
    Snapshot s;
    s.name = std::string{name};
    s.uidvalidity = 1700000000;
    s.uidnext = 8;
    MessageEntry a;
    a.uid = Uid{3};
    a.id = MessageId{3};
    a.size = kMsg1.size();
    a.internal_date = 837571465;
    a.flags = parse_flags("\\Seen");
    MessageEntry b;
    b.uid = Uid{7};
    b.id = MessageId{7};
    b.size = kMsg2.size();
    b.internal_date = 837571465 + 86400;
    s.messages = {a, b};
    return std::optional<Snapshot>{std::move(s)};
  }

  Result<MessageBytes> read_message(const Viewer& viewer, const Snapshot& /*mailbox*/,
                                    const MessageEntry& message) override {
    reads.emplace_back(viewer.name, to_int(message.id));
    return std::make_shared<const std::string>(to_int(message.id) == 3 ? kMsg1 : kMsg2);
  }

  std::vector<std::pair<std::string, std::int64_t>> reads;
};

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    SessionOptions o;
    o.failed_login_delay = std::chrono::milliseconds{0};
    session_ = std::make_unique<Session>(backend_, o, [this](std::string_view b) {
      out_ += b;
      return true;
    });
    session_->start();
    out_.clear();
  }

  // Sends `line` + CRLF; returns everything the server answered.
  std::string run(const std::string& line) {
    out_.clear();
    alive_ = session_->on_input(line + "\r\n");
    return out_;
  }

  void login() { ASSERT_NE(run("a LOGIN alice secret").find("a OK"), std::string::npos); }

  FakeBackend backend_;
  std::unique_ptr<Session> session_;
  std::string out_;
  bool alive_ = true;
};

TEST_F(SessionTest, GreetingCarriesCapabilities) {
  std::string greeting;
  Session s(backend_, SessionOptions{}, [&](std::string_view b) {
    greeting += b;
    return true;
  });
  s.start();
  EXPECT_EQ(greeting,
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL- ID ENABLE NAMESPACE UNSELECT CHILDREN "
            "IDLE ESEARCH SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
            "AUTH=PLAIN] mailvault ready\r\n");
}

TEST_F(SessionTest, LoginAndWrongPassword) {
  EXPECT_EQ(run("a LOGIN alice wrong"), "a NO [AUTHENTICATIONFAILED] invalid credentials\r\n");
  EXPECT_EQ(run("b LOGIN alice secret"),
            "b OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL- ID ENABLE NAMESPACE UNSELECT CHILDREN "
            "IDLE ESEARCH SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES] "
            "LOGIN completed\r\n");
  EXPECT_TRUE(std::holds_alternative<Authenticated>(session_->state()));
}

TEST_F(SessionTest, TooManyFailedLoginsCloses) {
  run("a LOGIN alice x");
  run("b LOGIN alice y");
  const auto last = run("c LOGIN alice z");
  EXPECT_NE(last.find("* BYE"), std::string::npos);
  EXPECT_FALSE(alive_);
}

TEST_F(SessionTest, PlaintextRefusedWhenNotAllowed) {
  SessionOptions o;
  o.allow_plaintext = false;
  std::string out;
  Session s(backend_, o, [&](std::string_view b) {
    out += b;
    return true;
  });
  s.start();
  EXPECT_NE(out.find("LOGINDISABLED"), std::string::npos);
  out.clear();
  s.on_input("a LOGIN alice secret\r\n");
  EXPECT_EQ(out, "a NO [PRIVACYREQUIRED] LOGIN is disabled without TLS\r\n");
}

TEST_F(SessionTest, AuthenticatePlainWithInitialResponse) {
  // base64("\0alice\0secret")
  EXPECT_NE(run("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==").find("a OK [CAPABILITY"),
            std::string::npos);
}

TEST_F(SessionTest, AuthenticatePlainWithContinuation) {
  EXPECT_EQ(run("a AUTHENTICATE PLAIN"), "+ \r\n");
  EXPECT_NE(run("AGFsaWNlAHNlY3JldA==").find("a OK"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<Authenticated>(session_->state()));
}

TEST_F(SessionTest, AuthenticateCancelled) {
  run("a AUTHENTICATE PLAIN");
  EXPECT_EQ(run("*"), "a BAD AUTHENTICATE cancelled\r\n");
}

TEST_F(SessionTest, SaslPlainDecoding) {
  auto c = decode_sasl_plain("YWxpY2UAYWxpY2UAc2VjcmV0");  // alice\0alice\0secret
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "secret");
  EXPECT_FALSE(decode_sasl_plain("Ym9iAGFsaWNlAHNlY3JldA=="));  // bob\0alice\0secret: proxy
  EXPECT_FALSE(decode_sasl_plain("YWxpY2U="));                  // no NUL
}

TEST_F(SessionTest, CommandsNeedTheRightState) {
  EXPECT_EQ(run("a SELECT \"All Mail\""), "a BAD SELECT is not allowed in this state\r\n");
  login();
  EXPECT_EQ(run("b FETCH 1 FLAGS"), "b BAD FETCH is not allowed in this state\r\n");
}

TEST_F(SessionTest, ListAndNamespace) {
  login();
  EXPECT_EQ(run("a LIST \"\" \"\""), "* LIST (\\Noselect) \"/\" \"\"\r\na OK LIST completed\r\n");
  EXPECT_EQ(run("b LIST \"\" *"),
            "* LIST (\\HasNoChildren \\All) \"/\" \"All Mail\"\r\n"
            "* LIST (\\Noselect \\HasChildren) \"/\" work\r\n"
            "* LIST (\\HasNoChildren) \"/\" work/INBOX\r\n"
            "b OK LIST completed\r\n");
  EXPECT_EQ(run("c LIST \"\" %"),
            "* LIST (\\HasNoChildren \\All) \"/\" \"All Mail\"\r\n"
            "* LIST (\\Noselect \\HasChildren) \"/\" work\r\n"
            "c OK LIST completed\r\n");
  EXPECT_EQ(run("d LSUB \"\" *"),
            "* LSUB (\\HasNoChildren \\All) \"/\" \"All Mail\"\r\n"
            "* LSUB (\\HasNoChildren) \"/\" work/INBOX\r\n"
            "d OK LSUB completed\r\n");
  EXPECT_EQ(run("e NAMESPACE"),
            "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\ne OK NAMESPACE completed\r\n");
}

TEST_F(SessionTest, SelectIsReadOnly) {
  login();
  EXPECT_EQ(run("a SELECT \"All Mail\""),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 EXISTS\r\n"
            "* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
            "* OK [UIDNEXT 8] Predicted next UID\r\n"
            "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"
            "a OK [READ-ONLY] SELECT completed (the archive is read-only)\r\n");
  EXPECT_EQ(run("b EXAMINE nothere"), "b NO [NONEXISTENT] no such mailbox\r\n");
  EXPECT_TRUE(std::holds_alternative<Authenticated>(session_->state()));
}

TEST_F(SessionTest, StatusItems) {
  login();
  EXPECT_EQ(run("a STATUS work/INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)"),
            "* STATUS work/INBOX (MESSAGES 2 UIDNEXT 8 UIDVALIDITY 1700000000 UNSEEN 1 RECENT 0)"
            "\r\na OK STATUS completed\r\n");
}

TEST_F(SessionTest, FetchItems) {
  login();
  run("a EXAMINE \"All Mail\"");
  EXPECT_EQ(run("b FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE)"),
            "* 1 FETCH (FLAGS (\\Seen) UID 3 INTERNALDATE \"17-Jul-1996 02:44:25 +0000\" "
            "RFC822.SIZE 44)\r\n"
            "* 2 FETCH (FLAGS () UID 7 INTERNALDATE \"18-Jul-1996 02:44:25 +0000\" "
            "RFC822.SIZE 46)\r\nb OK FETCH completed\r\n");
  EXPECT_TRUE(backend_.reads.empty());
  EXPECT_EQ(run("c UID FETCH 7 BODY.PEEK[]"),
            "* 2 FETCH (UID 7 BODY[] {46}\r\n" + kMsg2 + ")\r\nc OK UID FETCH completed\r\n");
  EXPECT_EQ(run("d UID FETCH 3 (BODY[TEXT]<1.3> RFC822.HEADER)"),
            "* 1 FETCH (UID 3 BODY[TEXT]<1> {3}\r\nell RFC822.HEADER {37}\r\n"
            "From: a@example.org\r\nSubject: one\r\n\r\n)\r\nd OK UID FETCH completed\r\n");
  EXPECT_EQ(run("e FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]"),
            "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {15}\r\nSubject: two\n\r\n)\r\n"
            "e OK FETCH completed\r\n");
  EXPECT_EQ(backend_.reads.size(), 3U);
  EXPECT_EQ(run("f UID FETCH 100:200 FLAGS"), "f OK UID FETCH completed\r\n");
  EXPECT_EQ(
      run("g FETCH 1 (ENVELOPE BODY)"),
      "* 1 FETCH (ENVELOPE (NIL \"one\" ((NIL NIL \"a\" \"example.org\")) "
      "((NIL NIL \"a\" \"example.org\")) ((NIL NIL \"a\" \"example.org\")) NIL NIL NIL "
      "NIL NIL) BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1))\r\n"
      "g OK FETCH completed\r\n");
  EXPECT_EQ(run("h FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.MIME] BINARY.SIZE[1] BODY.PEEK[2])"),
            "* 2 FETCH (BODY[1] {12}\r\nsecond body\n BODY[1.MIME] {34}\r\n"
            "From: b@example.org\nSubject: two\n\n BINARY.SIZE[1] 12 BODY[2] {0}\r\n)\r\n"
            "h OK FETCH completed\r\n");
}

TEST_F(SessionTest, SearchAndUidSearch) {
  login();
  run("a EXAMINE \"All Mail\"");
  EXPECT_EQ(run("b SEARCH LARGER 10"), "* SEARCH 1 2\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(run("c UID SEARCH UNSEEN"), "* SEARCH 7\r\nc OK UID SEARCH completed\r\n");
  EXPECT_EQ(run("d UID SEARCH RETURN (MIN COUNT) ALL"),
            "* ESEARCH (TAG \"d\") UID MIN 3 COUNT 2\r\nd OK UID SEARCH completed\r\n");
  EXPECT_EQ(run("e SEARCH SUBJECT x"), "e NO [CANNOT] text search keys are not supported yet\r\n");
  EXPECT_EQ(run("f SEARCH CHARSET KOI8-R ALL").substr(0, 19), "f NO [BADCHARSET (U");
}

TEST_F(SessionTest, SearchResSavesAndResets) {
  login();
  run("a EXAMINE \"All Mail\"");
  // Before any SAVE, $ is empty.
  EXPECT_EQ(run("b SEARCH $"), "* SEARCH\r\nb OK SEARCH completed\r\n");
  // SAVE alone answers no ESEARCH.
  EXPECT_EQ(run("c SEARCH RETURN (SAVE) UNSEEN"), "c OK SEARCH completed\r\n");
  EXPECT_EQ(run("d UID SEARCH $"), "* SEARCH 7\r\nd OK UID SEARCH completed\r\n");
  EXPECT_EQ(run("e FETCH $ (UID)"), "* 2 FETCH (UID 7)\r\ne OK FETCH completed\r\n");
  EXPECT_EQ(run("f UID SORT (REVERSE ARRIVAL) UTF-8 OR $ SEEN"),
            "* SORT 7 3\r\nf OK UID SORT completed\r\n");
  // SAVE with MIN saves the minimum only; with other options an ESEARCH is sent.
  EXPECT_EQ(run("g UID SEARCH RETURN (SAVE MIN) ALL"),
            "* ESEARCH (TAG \"g\") UID MIN 3\r\ng OK UID SEARCH completed\r\n");
  EXPECT_EQ(run("h SEARCH NOT $"), "* SEARCH 2\r\nh OK SEARCH completed\r\n");
  // A SAVE that fails, even in the parser (BADCHARSET), leaves $ empty.
  EXPECT_EQ(run("h2 SEARCH RETURN (SAVE) CHARSET KOI8-R ALL").substr(0, 19), "h2 NO [BADCHARSET (");
  EXPECT_EQ(run("h3 SEARCH $"), "* SEARCH\r\nh3 OK SEARCH completed\r\n");
  // A new EXAMINE (and CLOSE) forgets it.
  run("i EXAMINE \"All Mail\"");
  EXPECT_EQ(run("j SEARCH $"), "* SEARCH\r\nj OK SEARCH completed\r\n");
}

TEST_F(SessionTest, SortWithoutTextKeys) {
  login();
  run("a EXAMINE \"All Mail\"");
  EXPECT_EQ(run("b SORT (REVERSE SIZE) UTF-8 ALL"), "* SORT 2 1\r\nb OK SORT completed\r\n");
  EXPECT_EQ(run("c UID SORT (ARRIVAL) US-ASCII ALL"), "* SORT 3 7\r\nc OK UID SORT completed\r\n");
  EXPECT_EQ(run("d SORT (DATE) UTF-8 LARGER 100000"), "* SORT\r\nd OK SORT completed\r\n");
  // This backend has no message text: keys that need it are refused.
  EXPECT_EQ(run("e SORT (SUBJECT) UTF-8 ALL").substr(0, 13), "e NO [CANNOT]");
  EXPECT_EQ(run("f THREAD REFERENCES UTF-8 ALL").substr(0, 13), "f NO [CANNOT]");
}

TEST_F(SessionTest, StoreAnswersOkWithoutEffectWhenConfigured) {
  SessionOptions o;
  o.failed_login_delay = std::chrono::milliseconds{0};
  o.store_ok = true;
  std::string out;
  Session s(backend_, o, [&](std::string_view b) {
    out += b;
    return true;
  });
  auto run_s = [&](const std::string& line) {
    out.clear();
    s.on_input(line + "\r\n");
    return out;
  };
  run_s("a LOGIN alice secret");
  run_s("b SELECT \"All Mail\"");
  EXPECT_EQ(run_s("c STORE 1:* +FLAGS (\\Seen)"),
            "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\n"
            "c OK STORE completed; the read-only archive keeps its flags\r\n");
  EXPECT_EQ(run_s("d UID STORE 7 FLAGS.SILENT (\\Deleted)"),
            "d OK UID STORE completed; the read-only archive keeps its flags\r\n");
  EXPECT_EQ(run_s("e UID STORE 7 -FLAGS (\\Seen)"),
            "* 2 FETCH (UID 7 FLAGS ())\r\n"
            "e OK UID STORE completed; the read-only archive keeps its flags\r\n");
  EXPECT_EQ(run_s("f FETCH 2 (FLAGS)"), "* 2 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(run_s("g COPY 1 x"), "g NO [CANNOT] read-only archive\r\n");
}

TEST_F(SessionTest, WriteCommandsAreRefused) {
  login();
  run("a SELECT \"All Mail\"");
  for (const char* cmd :
       {"STORE 1 +FLAGS (\\Seen)", "UID STORE 1 +FLAGS (\\Seen)", "COPY 1 x", "MOVE 1 x", "EXPUNGE",
        "CREATE x", "DELETE x", "RENAME x y", "SUBSCRIBE x", "UNSUBSCRIBE x"}) {
    EXPECT_EQ(run(std::string("w ") + cmd), "w NO [CANNOT] read-only archive\r\n") << cmd;
  }
  EXPECT_EQ(run("x APPEND x {3}").substr(0, 11), "x NO [CANNO");
  EXPECT_EQ(run("y CLOSE"), "y OK CLOSE completed\r\n");
  EXPECT_EQ(run("z FROBNICATE"), "z BAD unknown command FROBNICATE\r\n");
}

TEST_F(SessionTest, ReaderLimits) {
  SessionOptions o;
  o.limits.max_line_bytes = 100;
  std::string out;
  Session s(backend_, o, [&](std::string_view b) {
    out += b;
    return true;
  });
  EXPECT_TRUE(s.on_input("a NOOP " + std::string(500, 'x') + "\r\n"));
  EXPECT_EQ(out.substr(0, 15), "a BAD [TOOBIG] ");
  out.clear();
  EXPECT_TRUE(s.on_input("b LOGIN {104857600}\r\n"));
  EXPECT_EQ(out.substr(0, 15), "b BAD [TOOBIG] ");
  out.clear();
  EXPECT_TRUE(s.on_input("c LOGIN {5}\r\n"));
  EXPECT_EQ(out, "+ Ready for literal data\r\n");
  out.clear();
  EXPECT_TRUE(s.on_input("alice secret\r\n"));
  EXPECT_EQ(out.substr(0, 6), "c OK [");
}

TEST_F(SessionTest, LogoutEnds) {
  EXPECT_EQ(run("a LOGOUT"), "* BYE mailvault logging out\r\na OK LOGOUT completed\r\n");
  EXPECT_FALSE(alive_);
}

}  // namespace
}  // namespace mailvault::imapd
