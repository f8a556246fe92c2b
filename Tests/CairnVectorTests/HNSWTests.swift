import CairnTestSupport
import CairnVector
import Testing

@Suite("HNSW")
struct HNSWTests {
    static let dimensions = 64

    /// Exact top-k by brute force.
    private func exact(_ vectors: [Float], count: Int, query: UnsafePointer<Float>, metric: DistanceMetric, k: Int,
                       allowed: ((Int) -> Bool)? = nil) -> [Int] {
        var top = TopK(k: k)
        vectors.withUnsafeBufferPointer { base in
            for row in 0..<count where allowed?(row) ?? true {
                top.offer(distance: metric.distance(query, base.baseAddress! + row * Self.dimensions, count: Self.dimensions), row: row)
            }
        }
        return top.sorted().map(\.row)
    }

    private func build(_ vectors: inout [Float], count: Int, metric: DistanceMetric) -> HNSWIndex {
        if metric.normalizesVectors {
            vectors.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<count {
                    _ = VectorKernels.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * Self.dimensions..<(row + 1) * Self.dimensions]))
                }
            }
        }
        let index = HNSWIndex(dimensions: Self.dimensions, metric: metric, parameters: HNSWParameters(M: 16, efConstruction: 100))
        vectors.withUnsafeBufferPointer { base in
            for row in 0..<count { index.insert(base.baseAddress! + row * Self.dimensions) }
        }
        return index
    }

    @Test("recall@10 is at least 0.95 against brute force on 10k × 64", arguments: DistanceMetric.allCases)
    func recall(metric: DistanceMetric) {
        let count = 10_000
        var vectors = ClusteredData.vectors(count: count + 100, dimensions: Self.dimensions, seed: 64)
        let index = build(&vectors, count: count, metric: metric)
        var found = 0
        vectors.withUnsafeBufferPointer { base in
            for query in count..<(count + 100) {
                let pointer = base.baseAddress! + query * Self.dimensions
                let truth = Set(exact(vectors, count: count, query: pointer, metric: metric, k: 10))
                found += index.search(pointer, k: 10, ef: 64).filter { truth.contains($0.row) }.count
            }
        }
        let recall = Double(found) / 1000
        #expect(recall >= 0.95, "recall@10 = \(recall) for \(metric)")
    }

    /// Builds an L2 graph over 10,000 clustered vectors (`seed`) and calls `body` with it for
    /// each of 50 queries, with the query's true 10 nearest among the rows `allowed` accepts.
    private func forEachFilteredQuery(seed: UInt64, allowed: @escaping (Int) -> Bool,
                                      _ body: (HNSWIndex, UnsafePointer<Float>, Set<Int>) -> Void) {
        let count = 10_000
        var vectors = ClusteredData.vectors(count: count + 50, dimensions: Self.dimensions, seed: seed)
        let index = build(&vectors, count: count, metric: .l2)
        vectors.withUnsafeBufferPointer { base in
            for query in count..<(count + 50) {
                let pointer = base.baseAddress! + query * Self.dimensions
                body(index, pointer, Set(exact(vectors, count: count, query: pointer, metric: .l2, k: 10, allowed: allowed)))
            }
        }
    }

    @Test("filtered search returns only allowed nodes and finds the true neighbours of a 1% filter")
    func filtered() {
        let allowed = { (row: Int) in row % 100 == 7 }
        var found = 0
        forEachFilteredQuery(seed: 65, allowed: allowed) { index, query, truth in
            let hits = index.search(query, k: 10, ef: 200, isAllowed: { allowed(Int($0)) })
            #expect(hits.allSatisfy { allowed($0.row) })
            found += hits.filter { truth.contains($0.row) }.count
        }
        #expect(Double(found) / 500 >= 0.9)
    }

    @Test("a filtered walk bounded by ef times the allowed share returns k allowed nodes, looks at fewer than one bounded by ef allowed nodes, and gains recall with ef")
    func filteredWalkBoundedByShare() {
        let allowed = { (row: Int) in row % 10 == 3 }
        var found: [Int: Int] = [:], consulted: [Int: Int] = [:]
        forEachFilteredQuery(seed: 66, allowed: allowed) { index, query, truth in
            // allowedBound nil: the walk goes on until it has ef allowed nodes.
            for (ef, bound) in [(64, Optional(7.0)), (256, 26), (64, nil)] {
                var calls = 0
                let hits = index.search(query, k: 10, ef: ef, isAllowed: { calls += 1; return allowed(Int($0)) }, allowedBound: bound)
                #expect(hits.count == 10 && hits.allSatisfy { allowed($0.row) })
                let key = Int(bound ?? 0)
                found[key, default: 0] += hits.filter { truth.contains($0.row) }.count
                consulted[key, default: 0] += calls
            }
        }
        #expect(consulted[7]! * 3 < consulted[0]!, "filter consulted \(consulted)")
        #expect(found[26]! >= found[7]!, "hits found \(found)")
        #expect(Double(found[7]!) / 500 >= 0.9, "hits found \(found)")
        #expect(Double(found[0]!) / 500 >= 0.95, "hits found \(found)")
    }

    @Test("a fractional allowed bound costs at least the whole bound below it and at most the one above")
    func fractionalAllowedBound() {
        let allowed = { (row: Int) in row % 10 == 3 }
        let bounds = [1.0, 1.5, 2.0]
        var consulted = [Int](repeating: 0, count: bounds.count), found = consulted
        forEachFilteredQuery(seed: 67, allowed: allowed) { index, query, truth in
            for (position, bound) in bounds.enumerated() {
                var calls = 0
                let hits = index.search(query, k: 10, ef: 16, isAllowed: { calls += 1; return allowed(Int($0)) }, allowedBound: bound)
                #expect(hits.count == 10 && hits.allSatisfy { allowed($0.row) })
                consulted[position] += calls
                found[position] += hits.filter { truth.contains($0.row) }.count
            }
        }
        // Per query the threshold of 1.5 lies between those of 1 and 2, so the walk stops between them.
        #expect(consulted[0] <= consulted[1] && consulted[1] <= consulted[2], "filter consulted \(consulted)")
        #expect(consulted[0] < consulted[2], "filter consulted \(consulted)")
        #expect(found[0] <= found[1] && found[1] <= found[2], "hits found \(found)")
    }

    @Test("a graph linked by several threads at once is well formed and keeps recall@10 ≥ 0.95", arguments: [DistanceMetric.l2, .cosine])
    func parallelBuild(metric: DistanceMetric) {
        let count = 10_000
        var vectors = ClusteredData.vectors(count: count + 100, dimensions: Self.dimensions, seed: 66)
        let parameters = HNSWParameters(M: 16, efConstruction: 100)
        let index = vectors.withUnsafeBufferPointer {
            HNSWIndex.build(vectors: $0.baseAddress!, rows: count, dimensions: Self.dimensions, metric: metric, parameters: parameters, threads: 4)
        }
        #expect(index.count == count)
        // Every list within its capacity, without the node itself or a node twice; every node has a neighbour.
        let layout = index.layout, stride = 1 + parameters.maxNeighborsLayer0
        var malformed = 0, isolated = 0
        for node in 0..<count {
            let list = Array(layout.layer0[(node * stride + 1)..<(node * stride + 1 + Int(layout.layer0[node * stride]))])
            if list.count > parameters.maxNeighborsLayer0 || list.contains(UInt32(node)) || Set(list).count != list.count
                || list.contains(where: { Int($0) >= count }) { malformed += 1 }
            if list.isEmpty { isolated += 1 }
        }
        #expect(malformed == 0 && isolated == 0)
        if metric.normalizesVectors {
            vectors.withUnsafeMutableBufferPointer { buffer in
                for row in count..<(count + 100) {
                    _ = VectorKernels.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * Self.dimensions..<(row + 1) * Self.dimensions]))
                }
            }
        }
        var found = 0
        vectors.withUnsafeBufferPointer { base in
            for query in count..<(count + 100) {
                let pointer = base.baseAddress! + query * Self.dimensions
                var top = TopK(k: 10)
                for row in 0..<count {
                    top.offer(distance: metric.distance(pointer, index.vector(row), count: Self.dimensions, scale: index.scale(row)), row: row)
                }
                let truth = Set(top.sorted().map(\.row))
                found += index.search(pointer, k: 10, ef: 64).filter { truth.contains($0.row) }.count
            }
        }
        #expect(Double(found) / 1000 >= 0.95, "recall@10 = \(Double(found) / 1000) for \(metric)")
    }

    @Test("a graph is deterministic for a seed")
    func deterministic() {
        var vectors = ClusteredData.vectors(count: 500, dimensions: Self.dimensions, seed: 66)
        let a = build(&vectors, count: 500, metric: .l2), b = build(&vectors, count: 500, metric: .l2)
        vectors.withUnsafeBufferPointer { base in
            #expect(a.search(base.baseAddress!, k: 10).map(\.row) == b.search(base.baseAddress!, k: 10).map(\.row))
        }
    }

    @Test("searches from several threads at once give the same results as one after another")
    func concurrentSearches() async {
        let count = 5_000
        var vectors = ClusteredData.vectors(count: count + 200, dimensions: Self.dimensions, seed: 65)
        let index = build(&vectors, count: count, metric: .l2)
        let queries = Array(vectors[(count * Self.dimensions)...])
        func run(_ q: Int) -> [ScoredRow] {
            queries.withUnsafeBufferPointer { index.search($0.baseAddress! + q * Self.dimensions, k: 10, ef: 64) }
        }
        let serial = (0..<200).map(run)
        let concurrent = await withTaskGroup(of: (Int, [ScoredRow]).self) { group in
            for worker in 0..<4 {
                group.addTask { (worker, (0..<200).filter { $0 % 4 == worker }.flatMap { run($0) }) }
            }
            var byWorker: [Int: [ScoredRow]] = [:]
            for await (worker, rows) in group { byWorker[worker] = rows }
            return byWorker
        }
        for worker in 0..<4 {
            #expect(concurrent[worker]! == (0..<200).filter { $0 % 4 == worker }.flatMap { serial[$0] })
        }
    }

    @Test("the locality order numbers every node once and puts linked nodes closer together than insertion order")
    func localityOrder() {
        let count = 5000
        var vectors = ClusteredData.vectors(count: count, dimensions: Self.dimensions, seed: 65)
        let index = build(&vectors, count: count, metric: .l2)
        let order = index.localityOrder()
        #expect(order.count == count && Set(order).count == count)
        var position = [Int](repeating: 0, count: count)
        for (newNumber, node) in order.enumerated() { position[Int(node)] = newNumber }
        // The share of layer-0 links whose two ends are numbered at most 64 apart (vectors a
        // few pages apart), before and after.
        let layer0 = index.layout.layer0, stride = layer0.count / count
        var nearBefore = 0, nearAfter = 0, links = 0
        for node in 0..<count {
            for slot in 0..<Int(layer0[node * stride]) {
                let neighbor = Int(layer0[node * stride + 1 + slot])
                if abs(neighbor - node) <= 64 { nearBefore += 1 }
                if abs(position[neighbor] - position[node]) <= 64 { nearAfter += 1 }
                links += 1
            }
        }
        #expect(links > count * 8)
        #expect(nearAfter > 2 * nearBefore, "\(nearAfter) of \(links) links near in locality order, \(nearBefore) in insertion order")

        let copy = index.renumbered(order)
        let queries = ClusteredData.vectors(count: 20, dimensions: Self.dimensions, seed: 66)
        for query in 0..<20 {
            let hits = queries.withUnsafeBufferPointer { index.search($0.baseAddress! + query * Self.dimensions, k: 10, ef: 32) }
            let renumberedHits = queries.withUnsafeBufferPointer { copy.search($0.baseAddress! + query * Self.dimensions, k: 10, ef: 32) }
            #expect(renumberedHits.map { Int(order[$0.row]) } == hits.map(\.row), "the renumbered graph walks the same way")
        }
    }
}
