import MIMSShards

/// What one run ingests: every record of the dataset (a single run), or the share of one part of a
/// split ingest (``PartPlan``). A part records discovery's rejections and run-wide warnings only
/// when it is part 0, so that the merged set holds each of them once.
struct IngestShare {
    /// The records this run decodes and writes, in id order within each split.
    let records: [SourceRecord]
    /// Discovery-stage rejections this run records.
    let discoveryRejections: [Rejection]
    /// Whether this run records discovery's run-wide warnings.
    let ownsDiscovery: Bool
    /// Matched files this run accounts for: its records and its discovery rejections.
    let matched: Int
    /// `part.json`; nil for a single run.
    let partFile: PartFile?
    /// A part's records go to planned shards (``PartPlan/shardIndices(of:)``); nil for a single run,
    /// whose shards roll over every `records_per_shard` written records.
    let plannedShard: [String: Int]?
    /// For the start line: which part, how many records, what share of the input bytes.
    let description: String

    init(discovery: Discovery.Result, assignment: [String: String], manifest: Manifest, part: IngestPart?, toolVersion: String) {
        guard let part else {
            records = discovery.records
            discoveryRejections = discovery.rejections
            ownsDiscovery = true
            matched = discovery.matched
            partFile = nil
            plannedShard = nil
            description = ""
            return
        }
        let plan = PartPlan(records: discovery.records, assignment: assignment, discoveryRejections: discovery.rejections,
                            filesMatched: discovery.matched, recordsPerShard: manifest.shards.recordsPerShard, parts: part.count)
        records = plan.records(of: part.index)
        ownsDiscovery = part.index == 0
        discoveryRejections = ownsDiscovery ? discovery.rejections : []
        matched = records.count + discoveryRejections.count
        partFile = plan.partFile(part.index, manifest: manifest, toolVersion: toolVersion, filesMatched: discovery.matched,
                                 discoveryRejections: discoveryRejections.count)
        plannedShard = plan.shardIndices(of: part.index)
        description = String(format: "part %@: %d records, %.1f%% of the input bytes", part.description, records.count,
                             100 * Double(plan.inputBytes(of: part.index)) / Double(max(1, plan.totalBytes)))
    }

    /// The `splits.json` of this run: a part's covers its own records.
    func splits(of whole: SplitsFile) -> SplitsFile {
        partFile == nil ? whole : whole.restricted(to: Set(records.map(\.id)), filesMatched: matched)
    }
}
