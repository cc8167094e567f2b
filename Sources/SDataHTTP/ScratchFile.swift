#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloaded documents live in the run's private scratch folder only while they are read.
public enum ScratchFile {
    public static func remove(_ path: String) {
        unlink(path)
    }
}
