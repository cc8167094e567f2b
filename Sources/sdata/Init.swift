import ArgumentParser
import Foundation

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Scaffold a new project: pipelines/, a sample, catalog/catalog.yaml.",
        discussion: "Existing files are never overwritten.")

    @Argument(help: "The project folder (default: the current folder).")
    var directory = "."

    func run() async throws {
        let files: [(String, String)] = [
            ("pipelines/example.yaml", Templates.spec),
            ("pipelines/samples/example.csv", Templates.sample),
            ("catalog/catalog.yaml", Templates.catalog),
            (".gitignore", Templates.gitignore),
        ]
        let manager = FileManager.default
        var created: [String] = []
        for (relative, contents) in files {
            let path = directory + "/" + relative
            if manager.fileExists(atPath: path) {
                Output.line("kept     \(path) (exists)")
                continue
            }
            try manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                        withIntermediateDirectories: true)
            guard manager.createFile(atPath: path, contents: Data(contents.utf8)) else {
                Output.error("cannot write '\(path)'")
                throw ExitCode(1)
            }
            created.append(path)
            Output.line("created  \(path)")
        }
        Output.line("""

            Next:
              cd \(directory)
              sdata validate
              sdata run --all
            """)
    }
}

enum Templates {
    static let spec = """
        # A pipeline: where the data comes from, what governance does to it, how it is published.
        # Reference: docs/spec-reference.md
        id: example-districts
        title: Example — population by district
        description: A small CSV published as CSV and JSON.
        source:
          plugin: file
          with:
            path: samples/example.csv
        schema:
          fields:
            - { name: district, type: string, description: District name }
            - { name: population, type: integer, minimum: 0 }
            - { name: updated, type: date }
        governance:
          classification: public
        publish:
          license: CC-BY-4.0
          keywords: [example]
          formats: [csv, json]

        """

    static let sample = """
        district,population,updated
        Jongno-gu,141223,2024-01-01
        Jung-gu,121312,2024-01-01
        Yongsan-gu,217194,2024-01-01

        """

    static let catalog = """
        title: Open data catalog
        description: Datasets published with S-Data.
        publisher:
          name: City data office
          email: data@example.org
        license: CC-BY-4.0
        language: en

        """

    static let gitignore = """
        /catalog/*
        !/catalog/catalog.yaml
        secrets.env

        """
}
