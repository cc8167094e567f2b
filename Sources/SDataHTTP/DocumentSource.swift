import SDataCore
public import SDataPluginAPI

/// Where a single-document plugin (`xml-feed`, `feed`) gets its document: a URL, downloaded to the run's scratch
/// folder with a conditional GET, or a local file.
public struct DocumentLocation: Sendable {
    public let url: String?
    public let path: String?
    public let headers: [(String, String)]

    /// Reads `url`, `path` and `headers` options; exactly one of `url` and `path` must be given.
    public init(options: PluginOptions) throws {
        url = options.string("url")
        path = options.string("path")
        headers = options.stringMap("headers")
        switch (url, path) {
        case (nil, nil): throw OptionError(option: "url", "or 'path' is required")
        case (.some, .some): throw OptionError(option: "url", "and 'path' exclude each other; use one")
        case (let url?, nil): try HTTPOptions.checkURL(url, option: "url")
        case (nil, let path?): if path.isEmpty { throw OptionError(option: "path", "must not be empty") }
        }
    }

    public static let options: [OptionSpec] = [
        OptionSpec("url", .string, "The document's URL (http or https)."),
        OptionSpec("path", .string, "Or a local file, absolute or relative to the spec."),
        OptionSpec("headers", .stringMap, "Headers sent with the request."),
    ]

    /// Runs `body` with a local path holding the document. A URL is streamed to disk first (constant memory) with
    /// the validators saved by the last published run; an unchanged document throws ``SourceUnchanged``.
    public func withFile<T: Sendable>(_ context: SourceContext, secrets: [String] = [],
                                      _ body: (String) async throws -> T) async throws -> T {
        if let path { return try await body(context.resolve(path: path)) }
        let url = url!
        return try await HTTPFetcher.session(context, secrets: secrets) { http in
            let folder = context.scratchDirectory ?? "/tmp"
            let file = folder + "/document-\(UInt64.random(in: 0...UInt64.max)).xml"
            defer { ScratchFile.remove(file) }
            let reply = try await http.download(HTTPCall(url: url, headers: headers, label: "document"), to: file,
                                                validators: Validators(state: context.state, url: url))
            let result = try await body(file)
            if let validators = Validators(reply: reply) { context.saveState(validators.state(for: url)) }
            return result
        }
    }
}
