/// The settings of an HNSW graph.
public struct HNSWParameters: Sendable, Hashable, Codable {
    /// Neighbours kept per node on the upper layers (twice as many on layer 0).
    public var M: Int
    /// The beam width while inserting: larger builds a better graph, more slowly.
    public var efConstruction: Int
    /// The default beam width while searching: larger finds more true neighbours, more slowly.
    public var efSearch: Int

    /// Graph settings: `M` links per node and layer (2M on layer 0), `efConstruction` candidates while linking, `efSearch` the default beam of a search.
    public init(M: Int = 16, efConstruction: Int = 200, efSearch: Int = 64) {
        self.M = M
        self.efConstruction = efConstruction
        self.efSearch = efSearch
    }

    /// Neighbours kept per node on layer 0.
    @inlinable public var maxNeighborsLayer0: Int { 2 * M }
}
