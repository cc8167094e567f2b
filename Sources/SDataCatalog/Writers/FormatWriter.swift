public import SDataGovernance

/// Writes one distribution format, streaming.
///
/// Implementations receive only governed batches, write them as they arrive (never collecting a dataset), and report
/// the final size and SHA-256 in ``finish()``. The file is complete and synced to disk when `finish` returns.
public protocol FormatWriter: AnyObject {
    /// The format's name in specs (`csv`).
    var format: String { get }
    var mediaType: String { get }
    func write(_ batch: GovernedBatch) throws(CatalogError)
    func finish() throws(CatalogError) -> (bytes: Int, sha256: String)
}
