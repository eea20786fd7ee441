// SPDX-License-Identifier: MIT
// The carrier of the precompiled test header (cmake/RingkitTestPch.cmake): CMake builds the PCH for this
// target, and every test executable reuses it. Nothing else is compiled here.
