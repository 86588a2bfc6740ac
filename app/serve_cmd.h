// smtp-harness serve: its flags, read once into the server's configuration.
#ifndef SMTP_APP_SERVE_CMD_H_
#define SMTP_APP_SERVE_CMD_H_

#include "absl/status/statusor.h"
#include "harness/server/serve_main.h"

namespace smtp::app {

// The serve flags as ServeOptions: each flag's value in its ServerConfig
// field, parsed and checked by harness/server/serve_main.h. InvalidArgument
// "--FLAG: why" for the first bad flag.
absl::StatusOr<server::ServeOptions> ConfigFromFlags();

}  // namespace smtp::app

#endif  // SMTP_APP_SERVE_CMD_H_
