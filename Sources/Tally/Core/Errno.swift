import Foundation

/// The text of the C error `code`, by default the current `errno` ("No such file or directory").
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
