import Synchronization

/// The rows of one segment that the last few filters matched, with their counts: a filter that
/// recurs (a tenant, a category, a language) is looked up once per segment instead of once per
/// search. Segments never change, so an entry never goes stale; the oldest is dropped.
final class MatchingRowsCache: Sendable {
    struct Match: Sendable {
        let rows: Bitmap
        let count: Int
    }

    /// Filters remembered per segment: each costs a bit per row.
    static let capacity = 4
    private let entries = Mutex<[(filter: BoundFilter, match: Match)]>([])

    /// The match of `filter`, computed by `compute` unless remembered.
    func match(_ filter: BoundFilter, compute: () -> Bitmap) -> Match {
        if let hit = entries.withLock({ entries in
            entries.firstIndex { $0.filter == filter }.map { index in
                let entry = entries.remove(at: index)
                entries.insert(entry, at: 0)
                return entry.match
            }
        }) {
            return hit
        }
        let rows = compute()
        let match = Match(rows: rows, count: rows.cardinality)
        entries.withLock { entries in
            entries.insert((filter, match), at: 0)
            if entries.count > Self.capacity { entries.removeLast() }
        }
        return match
    }
}
