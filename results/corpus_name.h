// The name of a fuzz corpus file. libFuzzer names each file of its corpus
// by the SHA-1 of its bytes; `convert --to corpus` (harness/replay/) and the
// network fuzzer's corpus mirror (fuzz/net/work_corpus.h) name files the
// same way, so that a seed and the file libFuzzer would write for it are one.
#ifndef SMTP_RESULTS_CORPUS_NAME_H_
#define SMTP_RESULTS_CORPUS_NAME_H_

#include <string>
#include <string_view>

namespace smtp::fuzz {

// Lower-case hex SHA-1 of `bytes` (40 characters).
std::string Sha1Hex(std::string_view bytes);

}  // namespace smtp::fuzz

#endif  // SMTP_RESULTS_CORPUS_NAME_H_
