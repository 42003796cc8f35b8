#include "server-imap/session/thread.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

namespace mailvault::imapd {

namespace {

constexpr int kMaxDepth = 1000;

// A tree node during threading: msg indexes the input, -1 for a dummy.
struct Node {
  int msg = -1;
  std::vector<Node> children;
};

// Step 1's containers with parent links, then turned into a Node forest.
class ContainerTable {
 public:
  int create() {
    parent_.push_back(-1);
    msg_.push_back(-1);
    return static_cast<int>(parent_.size() - 1);
  }

  int by_id(const std::string& id) {
    const auto [it, inserted] = ids_.try_emplace(id, 0);
    if (inserted)
      it->second = create();
    return it->second;
  }

  // A container for message `i` with this id: the id's, unless empty or already used.
  int for_message(int i, const std::string& id) {
    int c = id.empty() ? create() : by_id(id);
    if (msg_[static_cast<std::size_t>(c)] != -1)
      c = create();
    msg_[static_cast<std::size_t>(c)] = i;
    return c;
  }

  [[nodiscard]] int parent(int c) const { return parent_[static_cast<std::size_t>(c)]; }

  // True when `c` is `a` or one of its ancestors is, i.e. linking a under c makes a loop.
  [[nodiscard]] bool is_in_chain(int a, int c) const {
    for (; c != -1; c = parent(c)) {
      if (c == a)
        return true;
    }
    return false;
  }

  void set_parent(int child, int p) { parent_[static_cast<std::size_t>(child)] = p; }

  // Makes every container at a depth that is a positive multiple of max_depth a root, so that
  // no tree is deeper than max_depth and the recursive steps below stay within the stack.
  void split_deep_chains(int max_depth) {
    std::vector<int> depth(parent_.size(), -1);
    std::vector<int> path;
    for (std::size_t c = 0; c < parent_.size(); ++c) {
      int x = static_cast<int>(c);
      while (x != -1 && depth[static_cast<std::size_t>(x)] == -1) {
        path.push_back(x);
        x = parent(x);
      }
      int d = x == -1 ? -1 : depth[static_cast<std::size_t>(x)];
      for (auto it = path.rbegin(); it != path.rend(); ++it)
        depth[static_cast<std::size_t>(*it)] = ++d;
      path.clear();
    }
    for (std::size_t c = 0; c < parent_.size(); ++c) {
      if (depth[c] > 0 && depth[c] % max_depth == 0)
        parent_[c] = -1;
    }
  }

  // The roots with their subtrees; children in container creation order.
  [[nodiscard]] std::vector<Node> forest() const {
    std::vector<std::vector<int>> kids(parent_.size());
    std::vector<int> roots;
    for (std::size_t c = 0; c < parent_.size(); ++c) {
      if (parent_[c] == -1)
        roots.push_back(static_cast<int>(c));
      else
        kids[static_cast<std::size_t>(parent_[c])].push_back(static_cast<int>(c));
    }
    std::vector<Node> out;
    out.reserve(roots.size());
    for (const int r : roots)
      out.push_back(build(r, kids));
    return out;
  }

 private:
  // Recursion depth: at most kMaxDepth after split_deep_chains().
  Node build(int c, const std::vector<std::vector<int>>& kids) const {
    Node n{msg_[static_cast<std::size_t>(c)], {}};
    for (const int k : kids[static_cast<std::size_t>(c)])
      n.children.push_back(build(k, kids));
    return n;
  }

  std::vector<int> parent_;
  std::vector<int> msg_;
  std::unordered_map<std::string, int> ids_;
};

// Step 4 for one level: prunes the children first, then this level's dummies.
std::vector<Node> prune(std::vector<Node> level, bool root) {
  std::vector<Node> out;
  for (auto& n : level) {
    n.children = prune(std::move(n.children), false);
    if (n.msg != -1) {
      out.push_back(std::move(n));
    } else if (n.children.empty()) {
      continue;
    } else if (!root || n.children.size() == 1) {
      for (auto& c : n.children)
        out.push_back(std::move(c));
    } else {
      out.push_back(std::move(n));
    }
  }
  return out;
}

class SubjectGatherer {
 public:
  explicit SubjectGatherer(const std::vector<ThreadMessage>& m) : m_(m) {}

  void run(std::vector<Node>& roots) {
    std::unordered_map<std::string, std::size_t> table;
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const auto* s = subject(roots[i]);
      if (s == nullptr)
        continue;
      const auto [it, inserted] = table.try_emplace(*s, i);
      if (!inserted && prefer(roots[i], roots[it->second]))
        it->second = i;
    }
    std::vector<char> gone(roots.size(), 0);
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const auto* s = subject(roots[i]);
      if (s == nullptr)
        continue;
      const std::size_t t = table.at(*s);
      if (t == i)
        continue;
      merge(roots[t], std::move(roots[i]));
      gone[i] = 1;
    }
    std::vector<Node> kept;
    for (std::size_t i = 0; i < roots.size(); ++i) {
      if (gone[i] == 0)
        kept.push_back(std::move(roots[i]));
    }
    roots = std::move(kept);
  }

 private:
  const MessageKeys& keys(const Node& n) const {
    return *m_[static_cast<std::size_t>(n.msg != -1 ? n.msg : n.children.front().msg)].keys;
  }

  // The base subject of a root (a dummy's is its first child's); null when empty.
  const std::string* subject(const Node& n) const {
    if (n.msg == -1 && n.children.empty())
      return nullptr;
    const auto& s = keys(n).subject;
    return s.empty() ? nullptr : &s;
  }

  bool reply(const Node& n) const { return keys(n).subject_reply; }

  // Step 5B: whether `n` should replace `old` in the subject table.
  bool prefer(const Node& n, const Node& old) const {
    if (n.msg == -1)
      return old.msg != -1;
    return old.msg != -1 && reply(old) && !reply(n);
  }

  // Step 5C: merges root `n` into the table's root `t` (which stays in place).
  void merge(Node& t, Node n) const {
    if (t.msg == -1 && n.msg == -1) {
      for (auto& c : n.children)
        t.children.push_back(std::move(c));
    } else if (t.msg == -1) {
      t.children.push_back(std::move(n));
    } else if (n.msg == -1) {
      n.children.push_back(std::move(t));
      t = std::move(n);
    } else if (!reply(t) && reply(n)) {
      t.children.push_back(std::move(n));
    } else if (reply(t) && !reply(n)) {
      n.children.push_back(std::move(t));
      t = std::move(n);
    } else {
      Node dummy;
      dummy.children.push_back(std::move(t));
      dummy.children.push_back(std::move(n));
      t = std::move(dummy);
    }
  }

  const std::vector<ThreadMessage>& m_;
};

// Step 6: every level by sent date, ties by mailbox order; a dummy by its first child.
void order_by_date(std::vector<Node>& level, const std::vector<ThreadMessage>& m) {
  for (auto& n : level)
    order_by_date(n.children, m);
  auto first = [](const Node& n) {
    const Node* p = &n;
    while (p->msg == -1 && !p->children.empty())
      p = &p->children.front();
    return p->msg;
  };
  std::stable_sort(level.begin(), level.end(), [&](const Node& a, const Node& b) {
    const int x = first(a);
    const int y = first(b);
    const auto dx = m[static_cast<std::size_t>(x)].date;
    const auto dy = m[static_cast<std::size_t>(y)].date;
    return dx != dy ? dx < dy : x < y;
  });
}

std::vector<ThreadNode> to_output(const std::vector<Node>& level,
                                  const std::vector<ThreadMessage>& m) {
  std::vector<ThreadNode> out;
  out.reserve(level.size());
  for (const auto& n : level) {
    ThreadNode t;
    t.number = n.msg == -1 ? 0 : m[static_cast<std::size_t>(n.msg)].number;
    t.children = to_output(n.children, m);
    out.push_back(std::move(t));
  }
  return out;
}

void write_node(const ThreadNode& n, std::string& out) {
  if (n.number != 0) {
    out += std::to_string(n.number);
    if (n.children.empty())
      return;
    out += ' ';
    if (n.children.size() == 1) {
      write_node(n.children.front(), out);
      return;
    }
  }
  for (const auto& c : n.children) {
    out += '(';
    write_node(c, out);
    out += ')';
  }
}

}  // namespace

std::vector<ThreadNode> thread_references(const std::vector<ThreadMessage>& messages) {
  ContainerTable table;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const MessageKeys& k = *messages[i].keys;
    const int me = table.for_message(static_cast<int>(i), k.message_id);
    int prev = -1;
    for (const auto& ref : k.references) {
      if (ref.empty())
        continue;
      const int cur = table.by_id(ref);
      if (prev != -1 && table.parent(cur) == -1 && !table.is_in_chain(cur, prev))
        table.set_parent(cur, prev);
      prev = cur;
    }
    if (prev == -1)
      table.set_parent(me, -1);
    else if (!table.is_in_chain(me, prev))
      table.set_parent(me, prev);
  }
  table.split_deep_chains(kMaxDepth);
  auto roots = prune(table.forest(), true);
  SubjectGatherer(messages).run(roots);
  order_by_date(roots, messages);
  return to_output(roots, messages);
}

std::vector<ThreadNode> thread_ordered_subject(const std::vector<ThreadMessage>& messages) {
  std::vector<std::size_t> order(messages.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = messages[a];
    const auto& y = messages[b];
    if (const int c = x.keys->subject.compare(y.keys->subject); c != 0)
      return c < 0;
    return x.date < y.date;
  });
  std::vector<Node> roots;
  const std::string* subject = nullptr;
  for (const auto i : order) {
    const auto& s = messages[i].keys->subject;
    if (subject != nullptr && *subject == s) {
      roots.back().children.push_back(Node{static_cast<int>(i), {}});
      continue;
    }
    roots.push_back(Node{static_cast<int>(i), {}});
    subject = &s;
  }
  std::stable_sort(roots.begin(), roots.end(), [&](const Node& a, const Node& b) {
    const auto& x = messages[static_cast<std::size_t>(a.msg)];
    const auto& y = messages[static_cast<std::size_t>(b.msg)];
    return x.date != y.date ? x.date < y.date : a.msg < b.msg;
  });
  return to_output(roots, messages);
}

std::string format_threads(const std::vector<ThreadNode>& threads) {
  std::string out;
  for (const auto& t : threads) {
    out += '(';
    write_node(t, out);
    out += ')';
  }
  return out;
}

}  // namespace mailvault::imapd
