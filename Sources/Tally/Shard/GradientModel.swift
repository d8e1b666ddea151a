/// What a gradient map needs from the reduce: the `RowGradients` of the reduction (final indices
/// of the ids, ∂L/∂v by key, the smoothing terms, the reference time, the embedding table and the
/// bag gradients), with the loss and the digest that tags the per-row gradient parts.
///
/// `tally reduce` writes it into the partials folder as `<settings>.rowmodel` when the per-row
/// gradient parts are still to be made; each gradient map reads it instead of folding every
/// partial again. Decay, the kernel and the key shape come from the pipeline. The file ends with
/// the SHA-256 of everything before it, and is written atomically.
struct GradientModel {
    /// 2: ids' 32-bit hashes (`idHash`).
    static let magic = Array("TALLYRM2".utf8)
    static let kind = "rowmodel"

    let pipelineHash: String
    let loss: Double
    /// Tags the gradient parts made from this model (`GradientParts.digest`).
    let digest: [UInt8]
    let gradients: RowGradients

    func encoded() -> [UInt8] {
        var out = ByteWriter()
        out.write(bytes: Self.magic)
        out.write(pipelineHash)
        out.write(loss)
        out.write(bytes: digest)
        out.write(gradients.ids.count)
        for role in gradients.ids {
            out.write(role.table)
            out.write(array: role.finalIndex)
        }
        out.write(array: gradients.gradients.keys)
        out.write(array: gradients.gradients.counts)
        out.write(array: gradients.gradients.sums)
        out.write(gradients.smoothing != nil)
        if let smoothing = gradients.smoothing {
            out.write(smoothing.scale)
            out.write(smoothing.offset)
        }
        out.write(gradients.reference)
        out.write(gradients.embedding != nil)
        if let embedding = gradients.embedding {
            out.write(embedding.table.dim)
            out.write(array: embedding.table.values)
            out.write(array: embedding.bagGradients)
            out.write(embedding.user)
            out.write(embedding.item)
        }
        return out.sealed
    }

    /// The model in `bytes` for `pipeline`, or nil when they are not an intact model.
    static func decoded(_ bytes: [UInt8], pipeline: Pipeline, inputs: RunInputs) -> GradientModel? {
        guard var input = ByteReader(sealed: bytes) else { return nil }
        do {
            guard try input.bytesValue() == magic else { return nil }
            let hash = try input.string(), loss = try input.double(), digest = try input.bytesValue()
            guard try input.int() == inputs.roles.count else { return nil }
            var ids: [RowGradients.FinalIds] = []
            for _ in inputs.roles {
                guard let table = try input.idTable() else { return nil }
                let finalIndex = try input.array(of: Int32.self)
                guard finalIndex.count == table.count else { return nil }
                ids.append(RowGradients.FinalIds(table: table, finalIndex: finalIndex))
            }
            let keys = try input.array(of: UInt64.self), counts = try input.array(of: Int64.self), sums = try input.doubles()
            guard counts.count == keys.count, sums.count == keys.count else { return nil }
            let smoothing = try input.bool() ? (scale: try input.double(), offset: try input.double()) : nil
            let reference = try input.double()
            var embedding: (table: EmbeddingTable, bagGradients: [Double], user: Int, item: Int)?
            if try input.bool() {
                let dim = try input.int()
                let values = try input.doubles(), bagGradients = try input.doubles()
                let user = try input.int(), item = try input.int()
                guard dim > 0, values.count % dim == 0, bagGradients.count % dim == 0,
                      user < inputs.roles.count, item < inputs.roles.count else { return nil }
                embedding = (EmbeddingTable(dim: dim, values: values), bagGradients, user, item)
            }
            guard input.isAtEnd else { return nil }
            let counter = Counter(pipeline: pipeline, shape: inputs.shape)
            var table = KeyTable(channels: 1, keys: keys, counts: counts, sums: sums, anchor: nil)
            table.buildIndex()
            let gradients = RowGradients(
                ids: ids, shape: KeyShape(key: pipeline.count.key.value, tokenized: inputs.roles),
                gradients: table,
                smoothing: smoothing, decay: counter.decay, reference: reference, kernel: counter.kernel, embedding: embedding)
            return GradientModel(pipelineHash: hash, loss: loss, digest: digest, gradients: gradients)
        } catch {
            return nil
        }
    }
}
