/// Which segments of a partition to merge: size-tiered, so each byte is rewritten only a few
/// times (about once per tier it climbs) and most bytes of a large database live in big files
/// that no longer change — an incremental backup then uploads little more than what is new.
///
/// Segments are taken in age order (oldest first) and put in tiers by size: tier 0 up to
/// `tierBase` bytes, each next tier `tierRatio` times larger. A run of `minimumRun` or more
/// adjacent segments of one tier is merged into one (which usually lands a tier higher). A
/// segment at least `deadFraction` dead (rows hidden by newer versions or deletions) is
/// rewritten on its own, dropping them. Runs are always adjacent in age, so a merged segment
/// takes its inputs' place and newer-hides-older still holds.
struct CompactionPolicy: Sendable {
    /// The size of a segment, its rows, and how many of them are dead.
    struct Input: Equatable {
        var bytes: Int
        var rows: Int
        var deadRows: Int
    }

    var minimumRun: Int
    var tierBase = 4 << 20
    var tierRatio = 4
    var deadFraction = 0.3

    /// The tier of a segment of `bytes`.
    func tier(_ bytes: Int) -> Int {
        var tier = 0, limit = tierBase
        while bytes > limit {
            tier += 1
            limit = limit.multipliedReportingOverflow(by: tierRatio).overflow ? .max : limit * tierRatio
        }
        return tier
    }

    /// The runs to merge (ranges of `segments`, oldest first), not overlapping, in order.
    func runs(_ segments: [Input]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = 0
        while start < segments.count {
            var end = start + 1
            while end < segments.count && tier(segments[end].bytes) == tier(segments[start].bytes) { end += 1 }
            if end - start >= max(2, minimumRun) {
                runs.append(start..<end)
            } else {
                for index in start..<end where segments[index].rows > 0
                    && Double(segments[index].deadRows) >= deadFraction * Double(segments[index].rows) {
                    runs.append(index..<index + 1)
                }
            }
            start = end
        }
        return runs
    }
}
