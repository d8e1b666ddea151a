import Dispatch
import Foundation
import Synchronization

/// Streams the input files through the stages on Dispatch queues:
///
///     reader thread ──batches──▶ worker queues ──results──▶ fold queue (input order)
///
/// The reader (a dedicated thread, the only one that blocks) decompresses and frames each file
/// into record batches; it may run ahead of the fold by at most `inFlight` batches, so memory is
/// bounded by the pool, never by the input. Each worker queue owns a CSV parser, a tokenizer
/// and a counter. The fold queue puts results back in input order, whatever order the workers
/// finish in, and folds them; errors too are reported in input order, so the first bad row is
/// always the same one.
final class Stream: @unchecked Sendable {
    // Confinement: `pending`, `nextToFold`, `failure` and `fold` are touched only on `foldQueue`;
    // each `WorkerState` only on its worker queue; `nextSequence` only on the reader thread.
    private let files: [InputFile]
    private let pipeline: Pipeline
    private let fold: Fold
    private let foldQueue = DispatchQueue(label: "tally.fold")
    private let workerQueues: [DispatchQueue]
    private let workers: [WorkerState]
    private let credits: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)
    private let rules: RowRules
    private let readerOptions: RecordReader.Options

    private var pending: [Int: Item] = [:]
    private var nextToFold = 0
    private var failure: TallyError?
    private var nextSequence = 0
    let timings = StageTimings()
    let progress: Progress?

    private enum Item {
        case batch(BatchResult, file: Int)
        case fileEnd(file: Int)
        case failure(TallyError)
        case end
    }

    init(files: [InputFile], pipeline: Pipeline, fold: Fold, workers: Int, batchBytes: Int, progress: Progress?) {
        self.files = files
        self.pipeline = pipeline
        self.fold = fold
        self.progress = progress
        let rules = RowRules(pipeline)
        self.rules = rules
        var readerOptions = RecordReader.Options(pipeline.input)
        readerOptions.targetBatchBytes = batchBytes
        self.readerOptions = readerOptions
        workerQueues = (0..<workers).map { DispatchQueue(label: "tally.worker.\($0)") }
        self.workers = (0..<workers).map { _ in WorkerState(pipeline: pipeline, rules: rules, shape: fold.shape) }
        credits = DispatchSemaphore(value: 2 * workers + 2)
    }

    /// Streams every file and returns when the last batch is folded; throws the first error in
    /// input order.
    func run() throws {
        let reader = Thread { [self] in readAll() }
        reader.name = "tally.reader"
        reader.start()
        finished.wait()
        for worker in workers { timings.add(.tokenizeAndCount, worker.seconds) }
        if let failure { throw failure }
    }

    // MARK: Reader thread

    private func readAll() {
        let started = Clock.now
        defer {
            timings.add(.read, Clock.seconds(since: started) - timings.seconds(.readWaiting))
            deliver(.end)
        }
        for (index, file) in files.enumerated() {
            guard !cancelled.load(ordering: .relaxed) else { return }
            do {
                let reader = try RecordReader(file: file, fileIndex: index, options: readerOptions)
                let layout = try FileLayout(rules, input: pipeline.input, reader: reader)
                while let batch = try reader.next() {
                    let waited = Clock.now
                    credits.wait()
                    timings.add(.readWaiting, Clock.seconds(since: waited))
                    guard !cancelled.load(ordering: .relaxed) else {
                        credits.signal()
                        return
                    }
                    progress?.advance(bytes: batch.bytes.count, rows: batch.count)
                    dispatch(batch, layout: layout)
                }
                deliver(.fileEnd(file: index))
                progress?.finishFile(file.size)
            } catch let error as TallyError {
                deliver(.failure(error))
                return
            } catch {
                deliver(.failure(TallyError(.io, stage: .read, at: InputLocation(path: file.displayPath), "\(error)")))
                return
            }
        }
    }

    private func dispatch(_ batch: RecordBatch, layout: FileLayout) {
        let sequence = nextSequence
        nextSequence += 1
        let worker = workers[sequence % workers.count]
        let path = files[batch.fileIndex].displayPath
        workerQueues[sequence % workers.count].async { [self] in
            let item: Item
            do {
                let result = try worker.process(batch, layout: layout, path: path, cancelled: cancelled.load(ordering: .relaxed))
                item = .batch(result, file: batch.fileIndex)
            } catch {
                item = .failure(error as? TallyError ?? TallyError(.io, stage: .read, at: InputLocation(path: path), "\(error)"))
            }
            arrive(sequence, item)
        }
    }

    private func deliver(_ item: Item) {
        let sequence = nextSequence
        nextSequence += 1
        arrive(sequence, item)
    }

    // MARK: Fold queue

    private func arrive(_ sequence: Int, _ item: Item) {
        foldQueue.async { [self] in
            pending[sequence] = item
            while let next = pending.removeValue(forKey: nextToFold) {
                nextToFold += 1
                foldItem(next)
            }
        }
    }

    private func foldItem(_ item: Item) {
        let started = Clock.now
        defer { timings.add(.fold, Clock.seconds(since: started)) }
        switch item {
        case .batch(let result, let file):
            defer { credits.signal() }
            guard failure == nil else { return }
            do {
                try fold.add(result, of: files[file])
            } catch {
                fail(error as? TallyError ?? TallyError(.io, stage: .count, "\(error)"))
            }
        case .fileEnd(let file):
            if failure == nil { fold.endFile(files[file]) }
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

/// What one worker queue owns: its parser, tokenizer and counter, and its busy time.
private final class WorkerState: @unchecked Sendable {
    private let parser: CSVFieldParser
    private let tokenizer: RowTokenizer
    private let counter: Counter
    private(set) var seconds = 0.0

    init(pipeline: Pipeline, rules: RowRules, shape: KeyShape) {
        parser = CSVFieldParser(delimiter: pipeline.input.delimiter)
        tokenizer = RowTokenizer(rules: rules)
        counter = Counter(shape: shape)
    }

    /// Parses, tokenizes and counts one batch; does nothing once the run is cancelled.
    func process(_ batch: RecordBatch, layout: FileLayout, path: String, cancelled: Bool) throws -> BatchResult {
        let started = Clock.now
        defer { seconds += Clock.seconds(since: started) }
        guard !cancelled else { return BatchResult(events: EventBatch(roles: 0), keys: KeyTable(capacity: 1)) }
        let parsed = try parser.parse(batch)
        var events = tokenizer.tokenize(parsed, layout: layout, path: path)
        let keys = counter.count(events)
        events.dropRows()
        return BatchResult(events: events, keys: keys)
    }
}
