import Foundation

/// A pipeline file, version 1 (DESIGN §2), parsed, checked and with `${var}` substituted.
///
/// Paths are resolved against the pipeline file's folder. Every value that came from the file
/// remembers where it came from (`Located`), so later stages can report `file:line:column`.
public struct Pipeline: Sendable {
    /// The pipeline file as given on the command line.
    public var path: String
    /// The pipeline file's name, without its folder.
    var fileName: String { path.split(separator: "/").last.map(String.init) ?? path }
    /// The folder that relative paths in the file are resolved against (absolute).
    public var folder: String
    /// Hex digest identifying the file's bytes and the variables given (see `summary.json`).
    public var hash: String

    public var name: String
    public var description: String?
    public var input: Input
    /// Tokenized roles and their vocabulary settings, keyed by role.
    public var vocabulary: [Role: VocabularySettings]
    public var count: Count
    public var loss: Loss
    public var gradients: Gradients
    public var output: Output
    public var run: Run
}

/// The id roles that can be tokenized.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case user, item
    public static func < (a: Role, b: Role) -> Bool { a.sortOrder < b.sortOrder }
    /// `user` before `item`, as in `[user, item]`.
    private var sortOrder: Int { self == .user ? 0 : 1 }

    /// The input column that holds this role's ids.
    var column: Pipeline.ColumnRole { self == .user ? .user : .item }
}

/// A value with the place in the pipeline file it came from.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: InputLocation?
    public init(_ value: Value, at location: InputLocation? = nil) {
        self.value = value
        self.location = location
    }
}

extension Pipeline {
    /// A column reference: a header name, or a 0-based number when `header: false`.
    public enum ColumnRef: Sendable, Hashable, CustomStringConvertible {
        case name(String)
        case index(Int)
        public var description: String {
            switch self {
            case .name(let name): name
            case .index(let index): String(index)
            }
        }
    }

    public struct Input: Sendable {
        /// Glob patterns, resolved against the pipeline folder (absolute), in file order.
        public var paths: [Located<String>]
        public var header: Bool
        /// One byte.
        public var delimiter: UInt8
        /// The columns by role: item, user, time, weight, event.
        public var columns: [ColumnRole: Located<ColumnRef>]
        public var timeFormat: TimeFormat
        /// Keep rows whose column value is one of the listed values; in file order.
        public var filters: [Filter]
        public var badRows: BadRows
        /// A field longer than this many bytes makes its row bad (`max_field_bytes`, 1 MiB by
        /// default), so one runaway field is counted, not read into memory without end.
        public var maxFieldBytes: Int = 1 << 20
    }

    public enum ColumnRole: String, Sendable, CaseIterable {
        case item, user, time, weight, event
    }

    public enum TimeFormat: String, Sendable, CaseIterable {
        case unixSeconds = "unix_seconds"
        case unixMillis = "unix_millis"
        case iso8601
    }

    public struct Filter: Sendable {
        public var column: Located<ColumnRef>
        public var values: [String]
    }

    public struct BadRows: Sendable {
        public enum Policy: String, Sendable, CaseIterable { case fail, skip, quarantine }
        public var policy: Policy
        /// More bad rows than this fails the run; nil = unlimited (the default for skip and
        /// quarantine). Always 0 for `fail`, which stops at the first.
        public var max: Int?
    }

    public struct VocabularySettings: Sendable {
        public enum Mode: String, Sendable, CaseIterable { case extend, frozen }
        public enum Order: String, Sendable, CaseIterable { case frequency, firstSeen = "first_seen" }
        public enum OOV: String, Sendable, CaseIterable { case bucket, drop, fail }
        /// Absolute path of the persistent vocabulary file, if any.
        public var path: Located<String>?
        public var mode: Mode
        public var order: Order
        public var minCount: Int
        /// 0 = unlimited.
        public var maxSize: Int
        public var oov: OOV
        public var location: InputLocation?
    }

    public struct Count: Sendable {
        public enum KeyPart: String, Sendable, CaseIterable {
            case user, item, time

            /// The tokenized role of this part; nil for `time`.
            var role: Role? { self == .time ? nil : self == .user ? .user : .item }
            /// The input column this part reads.
            var column: ColumnRole { role?.column ?? .time }
        }
        /// `[item]`, `[user]`, `[user, item]` or `[item, time]`.
        public var key: Located<[KeyPart]>
        public var weight: Weight
        public var decay: Decay?
        public var timeBins: TimeBins?
        public var smoothing: Smoothing?
        public var embedding: Embedding?
    }

    public enum Weight: Sendable {
        /// Every row weighs 1.
        case one
        /// A numeric column.
        case column(Located<ColumnRef>)
        /// A table from the `event` column's value to a weight; `defaultWeight` for the rest.
        case events([String: Double], defaultWeight: Double)
    }

    public struct Decay: Sendable {
        public enum Reference: Sendable, Equatable {
            /// The latest time among all kept rows of all input files.
            case end
            /// Seconds since the Unix epoch.
            case instant(Double)
        }
        /// In seconds.
        public var halfLife: Double
        public var reference: Reference
        public var location: InputLocation?
    }

    public struct TimeBins: Sendable {
        public enum Kernel: String, Sendable, CaseIterable { case hard, triangular, epanechnikov, gaussian }
        /// The widest bandwidth, in bins: a row then reaches up to 513 bins (the Gaussian's
        /// 4 bandwidths either side), each a key it adds to.
        public static let maximumBandwidth = 64.0
        /// In seconds.
        public var width: Double
        /// Seconds since the Unix epoch.
        public var origin: Double
        public var kernel: Kernel
        /// In bins.
        public var bandwidth: Double
        public var location: InputLocation?
    }

    public struct Smoothing: Sendable {
        public var temperature: Double
        public var location: InputLocation?
    }

    public struct Embedding: Sendable {
        public var group: Role
        public var dim: Int
        /// Absolute path of a Parquet table with `item_id`, `e0..e{dim-1}`.
        public var table: Located<String>?
        public var seed: UInt64
        public var location: InputLocation?
    }

    public struct Loss: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case sum, mse
            case poissonNLL = "poisson_nll"
            case multinomialNLL = "multinomial_nll"
            case kl
        }
        public var kind: Located<Kind>
        /// Absolute path of the target table (CSV, .csv.zst or Parquet), if any.
        public var target: Located<String>?
        /// Default by kind: `logit` (multinomial_nll, kl), `log_rate` (poisson_nll), `target`
        /// (mse), empty for sum, which has no target.
        public var targetColumn: String
    }

    public struct Gradients: Sendable {
        public enum Parameter: String, Sendable, CaseIterable { case decay, temperature, bandwidth }
        public var parameters: [Parameter]
        public var perEvent: Bool
        public var embeddingTable: Bool
        public var location: InputLocation?
    }

    public struct Output: Sendable {
        public enum Compression: String, Sendable, CaseIterable { case zstd, none }
        /// Absolute path of the output folder.
        public var dir: Located<String>
        public var compression: Compression
        public var zstdLevel: Int
        public var rowGroupRows: Int
    }

    /// Throws `.usage` when the folder of partials or state cache `folder`, given on the command
    /// line with `option`, is or lies in `output.dir`, which each run replaces whole, or holds
    /// files that input.paths would read as logs (as `validate` checks `run.state_dir`).
    public func requirePartialsFolder(_ folder: String, option: String) throws {
        let absolute = PathText.resolve(folder, against: InputFiles.currentDirectory())
        if PipelineChecks.isInside(absolute, folder: output.dir.value) {
            throw TallyError(.usage, stage: .pipeline, "\(option) \(InputFiles.display(absolute)) lies in output.dir "
                             + "\(InputFiles.display(output.dir.value)), which each run replaces whole: choose a folder outside it")
        }
        for entry in PipelineChecks.stateEntries(in: absolute) {
            guard let pattern = PipelineChecks.inputPattern(matching: entry, in: self) else { continue }
            throw TallyError(.usage, stage: .pipeline, "input.paths '\(InputFiles.display(pattern.value))' matches the files \(option) "
                             + "\(InputFiles.display(absolute)) holds, which a run would read as logs: choose a folder outside the inputs")
        }
    }

    /// Whether `name` can be set with `--var` and used as `${name}`: a letter or `_`, then
    /// letters, digits and `_`.
    public static func isVariableName(_ name: String) -> Bool { ConfigReader.isVariableName(name) }

    public struct Run: Sendable {
        /// The most workers a run takes: each holds up to two batches in flight (a few MiB each),
        /// so memory grows with them, and more workers than cores only wait their turn.
        public static let maximumWorkers = 256
        /// nil = auto (the number of active processors).
        public var workers: Int?
        /// Absolute path of the state cache folder, if any.
        public var stateDir: Located<String>?
    }
}
