// Owners for GLib/GObject/GMime resources. Every C resource gets an owner on the line that
// acquires it; business code never calls g_object_unref, g_free or *_free directly.
//
//   auto stream = gobj::Ptr<GMimeStream>::adopt(g_mime_stream_mem_new());   // "transfer full"
//   auto keep = gobj::Ptr<GMimeObject>::retain(g_mime_message_get_mime_part(msg));  // "transfer
//   none" gobj::GCharPtr type{g_mime_content_type_get_mime_type(ct)};              // g_free'd
//   string
//
// Which GMime calls return new references and which return borrowed pointers is listed in
// core/mime/README.md. Only core/mime/ includes this header (GMime stays inside this folder).
//
// Thread safety: a Ptr is as thread-safe as a raw pointer; GObject reference counting itself
// is atomic, but GMime objects must not be used from two threads at once.
#pragma once

#include <memory>
#include <utility>

#include <glib.h>
#include <gmime/gmime.h>

#include <glib-object.h>

namespace mailvault::mime::gobj {

// Owning pointer to a GObject-derived T. The factory says who owns the reference:
//   adopt(p)  - take over a reference the caller already owns ("transfer full")
//   retain(p) - add a reference to a borrowed pointer        ("transfer none")
// GMime objects are plain GObjects (never floating), so g_object_ref is enough.
template <typename T>
class Ptr {
 public:
  Ptr() noexcept = default;

  [[nodiscard]] static Ptr adopt(T* p) noexcept { return Ptr(p); }

  [[nodiscard]] static Ptr retain(T* p) noexcept {
    if (p != nullptr) {
      g_object_ref(p);
    }
    return Ptr(p);
  }

  Ptr(const Ptr& other) noexcept : p_(other.p_) {
    if (p_ != nullptr) {
      g_object_ref(p_);
    }
  }

  Ptr(Ptr&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}

  Ptr& operator=(const Ptr& other) noexcept {
    if (this != &other) {
      Ptr(other).swap(*this);
    }
    return *this;
  }

  Ptr& operator=(Ptr&& other) noexcept {
    Ptr(std::move(other)).swap(*this);
    return *this;
  }

  ~Ptr() {
    if (p_ != nullptr) {
      g_object_unref(p_);
    }
  }

  void swap(Ptr& other) noexcept { std::swap(p_, other.p_); }

  [[nodiscard]] T* get() const noexcept { return p_; }

  // Gives the reference back to the caller, who must hand it to something that adopts it.
  [[nodiscard]] T* release() noexcept { return std::exchange(p_, nullptr); }

  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  explicit Ptr(T* p) noexcept : p_(p) {}

  T* p_ = nullptr;
};

// Calls Fn on a non-null pointer: the deleter of the unique_ptr aliases below.
template <auto Fn>
struct Deleter {
  template <typename U>
  void operator()(U* p) const noexcept {
    Fn(p);
  }
};

// Strings and blocks from g_malloc: g_mime_content_type_get_mime_type,
// g_mime_utils_header_decode_text, g_mime_object_to_string, ...
using GCharPtr = std::unique_ptr<char, Deleter<g_free>>;
using ParserOptionsPtr = std::unique_ptr<GMimeParserOptions, Deleter<g_mime_parser_options_free>>;
using DateTimePtr = std::unique_ptr<GDateTime, Deleter<g_date_time_unref>>;

}  // namespace mailvault::mime::gobj
