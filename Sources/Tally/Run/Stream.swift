import Dispatch
import Foundation
import Synchronization

/// The work a worker queue does on each record batch; one instance per worker queue.
protocol BatchWork: AnyObject, SendableMetatype {
    associatedtype Output: Sendable
    /// Processes the first `rows` records of `batch` (all of them when nil).
    func process(_ batch: RecordBatch, layout: FileLayout, path: String, rows: Int?) throws -> Output
    /// Seconds spent in `process`.
    var seconds: Double { get }
}

/// Receives the workers' outputs in input order, on the fold queue.
protocol OrderedSink: AnyObject, SendableMetatype {
    associatedtype Output
    func add(_ output: Output, of file: InputFile) throws
    /// Called after the last output of file number `index` (also for a file that was skipped).
    func endFile(_ file: InputFile, index: Int) throws
}

/// Streams the input files through the stages on Dispatch queues:
///
///     reader thread ──batches──▶ worker queues ──outputs──▶ fold queue (input order) ──▶ sink
///
/// The reader (a dedicated thread, the only one that blocks) decompresses and frames each file
/// into record batches; it may run ahead of the fold by at most `2·workers + 2` batches, so
/// memory is bounded by that pool, never by the input. Each worker queue owns its `Work`. The
/// fold queue puts outputs back in input order, whatever order the workers finish in, and hands
/// them to the sink; errors too are reported in input order, so the first bad row is always the
/// same one.
final class Stream<Work: BatchWork, Sink: OrderedSink>: @unchecked Sendable where Sink.Output == Work.Output {
    // Confinement: `pending`, `nextToFold`, `failure` and the sink are touched only on
    // `foldQueue`; each work only on its worker queue; `nextSequence` and `rowsDispatched`
    // only on the reader thread.
    private let files: [InputFile]
    private let input: Pipeline.Input
    private let rules: RowRules
    private let sink: Sink
    private let works: [Work]
    private let workerQueues: [DispatchQueue]
    private let foldQueue = DispatchQueue(label: "tally.fold")
    private let credits: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)
    private let readerOptions: RecordReader.Options
    private let rowLimit: Int?
    /// Files not to read (their partials come from the state cache): the sink only sees their end.
    private let skipping: Set<Int>
    private let progress: Progress?
    let timings: StageTimings

    /// Outputs that arrived before an earlier one, and whether each holds a pool credit.
    private var pending: [Int: (item: Item, holdsCredit: Bool)] = [:]
    private var nextToFold = 0
    private var failure: TallyError?
    private var nextSequence = 0
    private var rowsDispatched = 0

    private enum Item {
        case output(Work.Output, file: Int)
        case fileEnd(file: Int)
        case failure(TallyError)
        case end
    }

    /// - Parameters:
    ///   - works: one per worker queue.
    ///   - rowLimit: read only the first rows of the input (for `gradcheck`).
    init(files: [InputFile], pipeline: Pipeline, works: [Work], sink: Sink, batchBytes: Int,
         rowLimit: Int? = nil, skipping: Set<Int> = [], progress: Progress?, timings: StageTimings) {
        self.files = files
        self.skipping = skipping
        self.input = pipeline.input
        self.rules = RowRules(pipeline)
        self.works = works
        self.sink = sink
        self.rowLimit = rowLimit
        self.progress = progress
        self.timings = timings
        workerQueues = works.indices.map { DispatchQueue(label: "tally.worker.\($0)") }
        credits = DispatchSemaphore(value: 2 * works.count + 2)
        var options = RecordReader.Options(pipeline.input)
        options.targetBatchBytes = batchBytes
        readerOptions = options
    }

    /// Streams every file and returns when the last output is folded; throws the first error
    /// in input order.
    func run() throws {
        let reader = Thread { [self] in readAll() }
        reader.name = "tally.reader"
        reader.start()
        finished.wait()
        for work in works { timings.add(.tokenizeAndCount, work.seconds) }
        if let failure { throw failure }
    }

    // MARK: Reader thread

    private func readAll() {
        let started = Clock.now
        var waiting = 0.0
        defer {
            timings.add(.read, Clock.seconds(since: started) - waiting)
            deliver(.end)
        }
        for (index, file) in files.enumerated() {
            guard !cancelled.load(ordering: .relaxed), rowLimit.map({ rowsDispatched < $0 }) ?? true else { return }
            if skipping.contains(index) {
                deliver(.fileEnd(file: index))
                progress?.finishFile(file.size)
                continue
            }
            do {
                let reader = try RecordReader(file: file, fileIndex: index, options: readerOptions)
                let layout = try FileLayout(rules, input: input, reader: reader)
                while let batch = try reader.next() {
                    let waited = Clock.now
                    credits.wait()
                    waiting += Clock.seconds(since: waited)
                    guard !cancelled.load(ordering: .relaxed) else {
                        credits.signal()
                        return
                    }
                    progress?.advance(bytes: batch.bytes.count, rows: batch.count,
                                      fileBytes: Int64(batch.fileFraction * Double(file.size)))
                    let rows = rowLimit.map { min(batch.count, $0 - rowsDispatched) }
                    rowsDispatched += rows ?? batch.count
                    dispatch(batch, layout: layout, rows: rows)
                    if let rowLimit, rowsDispatched >= rowLimit { break }
                }
                deliver(.fileEnd(file: index))
                progress?.finishFile(file.size)
            } catch {
                deliver(.failure(error as? TallyError
                    ?? TallyError(.io, stage: .read, at: InputLocation(path: file.displayPath), "\(error)")))
                return
            }
        }
    }

    private func dispatch(_ batch: RecordBatch, layout: FileLayout, rows: Int?) {
        let sequence = nextSequence
        nextSequence += 1
        let worker = sequence % works.count
        let path = files[batch.fileIndex].displayPath
        workerQueues[worker].async { [self] in
            let item: Item
            if cancelled.load(ordering: .relaxed) {
                item = .failure(TallyError(.io, stage: .run, "cancelled"))
            } else {
                do {
                    item = .output(try works[worker].process(batch, layout: layout, path: path, rows: rows), file: batch.fileIndex)
                } catch var error as TallyError {
                    // A parser's error knows no file: this batch's is the place.
                    if error.location == nil { error.location = InputLocation(path: path) }
                    item = .failure(error)
                } catch {
                    item = .failure(TallyError(.io, stage: .read, at: InputLocation(path: path), "\(error)"))
                }
            }
            arrive(sequence, item, holdsCredit: true)
        }
    }

    private func deliver(_ item: Item) {
        let sequence = nextSequence
        nextSequence += 1
        arrive(sequence, item, holdsCredit: false)
    }

    // MARK: Fold queue

    private func arrive(_ sequence: Int, _ item: Item, holdsCredit: Bool) {
        foldQueue.async { [self] in
            pending[sequence] = (item, holdsCredit)
            while let next = pending.removeValue(forKey: nextToFold) {
                nextToFold += 1
                fold(next.item)
                // A batch's credit comes back once its output has been handed on, so at most
                // the pool's worth of batches and outputs exist at once.
                if next.holdsCredit { credits.signal() }
            }
        }
    }

    private func fold(_ item: Item) {
        let started = Clock.now
        defer { timings.add(.fold, Clock.seconds(since: started)) }
        switch item {
        case .output(let output, let file):
            guard failure == nil else { return }
            do {
                try sink.add(output, of: files[file])
            } catch {
                fail(error as? TallyError ?? TallyError(.io, stage: .run, "\(error)"))
            }
        case .fileEnd(let file):
            guard failure == nil else { return }
            do {
                try sink.endFile(files[file], index: file)
            } catch {
                fail(error as? TallyError ?? TallyError(.io, stage: .run, "\(error)"))
            }
        case .failure(let error):
            fail(error)
        case .end:
            finished.signal()
        }
    }

    private func fail(_ error: TallyError) {
        guard failure == nil else { return }
        failure = error
        cancelled.store(true, ordering: .relaxed)
    }
}
