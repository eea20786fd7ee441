// SPDX-License-Identifier: MIT
#pragma once
// ChannelQueue<T>: a bounded ring behind one std::mutex and two std::condition_variables: the channel
// baseline the executor is compared with (QueueKind::Channel). It offers the subset of MpmcQueue's API
// the executor uses, with the same meanings: try_push, push (blocks while full; false once closed),
// push_batch, pop_batch, pop (blocks while empty; false once closed and drained), close, size_approx.
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ringkit::dag {

template <class T>
class ChannelQueue {
 public:
  explicit ChannelQueue(std::size_t capacity) : slots_(capacity) {
    if (capacity == 0) throw std::invalid_argument("ChannelQueue: capacity 0");
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }
  [[nodiscard]] std::size_t size_approx() const {
    std::lock_guard lock(mutex_);
    return size_;
  }

  bool try_push(T value) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || size_ == slots_.size()) return false;
      put(std::move(value));
    }
    not_empty_.notify_one();
    return true;
  }

  bool push(T value) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [&] { return closed_ || size_ < slots_.size(); });
      if (closed_) return false;
      put(std::move(value));
    }
    not_empty_.notify_one();
    return true;
  }

  std::size_t push_batch(std::span<T> items) {
    std::size_t n = 0;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return 0;
      while (n < items.size() && size_ < slots_.size()) put(std::move(items[n++]));
    }
    if (n == 1) {
      not_empty_.notify_one();
    } else if (n > 1) {
      not_empty_.notify_all();
    }
    return n;
  }

  std::size_t pop_batch(std::span<T> out) {
    std::size_t n = 0;
    {
      std::lock_guard lock(mutex_);
      while (n < out.size() && size_ != 0) out[n++] = take();
    }
    if (n != 0) not_full_.notify_all();
    return n;
  }

  bool pop(T& out) {
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return closed_ || size_ != 0; });
      if (size_ == 0) return false;
      out = take();
    }
    not_full_.notify_one();
    return true;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  void put(T&& v) {
    slots_[(head_ + size_) % slots_.size()] = std::move(v);
    ++size_;
  }
  T take() {
    T v = std::move(slots_[head_]);
    head_ = (head_ + 1) % slots_.size();
    --size_;
    return v;
  }

  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  bool closed_ = false;
};

}  // namespace ringkit::dag
