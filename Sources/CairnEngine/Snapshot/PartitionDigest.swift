import Foundation
import Synchronization

/// What one partition held at a moment, in a form a restored copy can be checked against: the
/// number of live objects, their content fingerprint, and a few golden queries with their exact
/// answers.
package struct PartitionDigest: Codable, Sendable, Hashable {
    package var objects: Int
    package var fingerprint: ContentFingerprint
    package var goldenQueries: [GoldenQuery]
}

/// A nearest-neighbour query and its exact answer (every row scanned, so the answer depends on
/// the data only, not on how graphs were built). The query is the vector of one of the
/// partition's objects.
public struct GoldenQuery: Codable, Sendable, Hashable {
    /// One object of the answer and its distance to the query.
    public struct Hit: Codable, Sendable, Hashable {
        public var id: UUID
        public var distance: Float
    }

    /// The object whose vector is the query.
    public var queryObject: UUID
    /// The closest objects, closest first.
    public var hits: [Hit]

    /// The number of hits a golden query asks for.
    static let limit = 10
    /// Golden queries per partition.
    static let perPartition = 2

    /// Whether `answer` is this query's answer: the same distances, and the same ids except
    /// among the hits tied at the last distance (any of which may make the cut).
    package func isAnswered(by answer: [Hit]) -> Bool {
        guard answer.map(\.distance) == hits.map(\.distance) else { return false }
        guard let last = hits.last?.distance else { return true }
        return Set(answer.filter { $0.distance < last }.map(\.id)) == Set(hits.filter { $0.distance < last }.map(\.id))
    }
}

/// A digest begun under the engine's state lock (memtables) and finished after it (segments).
struct CapturedDigest {
    fileprivate let objects: Int
    fileprivate let memtableFingerprint: ContentFingerprint
    fileprivate let segments: [(view: SegmentView, stored: ContentFingerprint?)]
    fileprivate var searches: [(query: UUID, search: CapturedSearch)]

    /// Adds the segments' fingerprints and answers the golden queries. A segment's stored
    /// fingerprint is used when there is one, less its dead rows; otherwise its live rows are
    /// read.
    consuming func finish() throws -> PartitionDigest {
        var fingerprint = memtableFingerprint
        for (view, stored) in segments {
            let segment = view.segment
            if var sum = stored, view.deadCount < segment.rowCount / 2 {
                var read = 0
                try view.deadRows.forEachSet { row in
                    sum.subtract(try segment.fingerprint(ofRow: row))
                    // Each scattered read maps the pages around it too: let them go as it passes.
                    read += 1
                    if read % 256 == 0 { segment.evictResidentPages() }
                }
                segment.evictResidentPages()
                fingerprint.add(sum)
            } else {
                fingerprint.add(try Self.fingerprintOfLiveRows(view))
            }
        }
        let queries = try searches.map { query, search in
            GoldenQuery(queryObject: query, hits: try search.finish().map { GoldenQuery.Hit(id: $0.object.id, distance: $0.distance) })
        }
        // The scans read whole segments; searches bring back the pages they use.
        for (view, _) in segments { view.segment.evictResidentPages() }
        return PartitionDigest(objects: objects, fingerprint: fingerprint, goldenQueries: queries)
    }
}

extension CapturedDigest {
    /// The fingerprint of a segment's live rows, read row by row on every core, a round of
    /// 64k-row chunks at a time, the pages read let go after each round.
    static func fingerprintOfLiveRows(_ view: SegmentView) throws -> ContentFingerprint {
        let segment = view.segment, chunk = 1 << 16
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var total = ContentFingerprint()
        for round in stride(from: 0, to: segment.rowCount, by: chunk * workers) {
            let sums = Mutex([Result<ContentFingerprint, Error>]())
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = min(round + worker * chunk, segment.rowCount)
                var sum = ContentFingerprint()
                let outcome = Result { () throws -> ContentFingerprint in
                    for row in start..<min(start + chunk, segment.rowCount) where !view.deadRows[row] {
                        sum.add(try segment.fingerprint(ofRow: row))
                    }
                    return sum
                }
                sums.withLock { $0.append(outcome) }
            }
            for sum in sums.withLock({ $0 }) { total.add(try sum.get()) }
            segment.evictResidentPages()
        }
        return total
    }
}

extension PartitionView {
    /// Begins the digest of this partition; call under the state lock, then `finish()` after
    /// it. `goldenQueries` names the query objects (nil: choose them). With `usingStored`,
    /// segments' stored fingerprints are used; without, every live row is read (how a restore
    /// checks what it wrote).
    func beginDigest(goldenQueries: [UUID]? = nil, usingStored: Bool) throws -> CapturedDigest {
        var fingerprint = ContentFingerprint()
        for table in memtablesNewestFirst {
            table.forEachLiveSlot { slot in
                let fingerprintOfSlot = table.withEncodedProperties(at: slot) {
                    ContentFingerprint(id: table.entries[slot].id, vector: table.vectorBuffer(at: slot), encodedProperties: $0)
                }
                fingerprint.add(fingerprintOfSlot)
            }
        }
        let segmentViews = segments.compactMap { loaded in SegmentView(loaded).map { ($0, usingStored ? loaded.record.fingerprint : nil) } }
        var searches: [(query: UUID, search: CapturedSearch)] = []
        for id in goldenQueries ?? goldenQueryCandidates() {
            guard let query = try object(id) else { continue }
            searches.append((id, try beginSearch(query.vector, limit: GoldenQuery.limit, filter: nil, ef: nil, exact: true)))
        }
        return CapturedDigest(objects: liveCount, memtableFingerprint: fingerprint, segments: segmentViews, searches: searches)
    }

    /// Objects whose vectors make the golden queries, chosen from the data: live rows a third
    /// and two thirds into the largest segment, else the memtables' first live objects.
    private func goldenQueryCandidates() -> [UUID] {
        var chosen: [UUID] = []
        if let largest = segments.filter({ $0.segment != nil }).max(by: { $0.segment!.rowCount < $1.segment!.rowCount }),
           let segment = largest.segment {
            for part in 1...GoldenQuery.perPartition {
                let start = segment.rowCount * part / (GoldenQuery.perPartition + 1)
                if let row = (start..<segment.rowCount).first(where: { !largest.deadRows[$0] }) {
                    let id = segment.id(at: row)
                    if !chosen.contains(id) { chosen.append(id) }
                }
            }
        }
        for table in memtablesNewestFirst where chosen.count < GoldenQuery.perPartition {
            table.forEachLiveSlot { slot in
                if chosen.count < GoldenQuery.perPartition, !chosen.contains(table.entries[slot].id) { chosen.append(table.entries[slot].id) }
            }
        }
        return chosen
    }
}

extension Engine {
    /// The digest of a partition computed row by row, with the golden queries `goldenQueries`:
    /// what a restore compares with the digest a backup recorded.
    package func digest(collection: String, tenant: String? = nil, goldenQueries: [UUID]) throws -> PartitionDigest {
        try state.withLock { state in
            try state.partition(collection, tenant: tenant).beginDigest(goldenQueries: goldenQueries, usingStored: false)
        }.finish()
    }
}
