import ArgumentParser
import Foundation
import MIMSCore
import MIMSShards
import MIMSTrain

/// The paper's Table 1 from finished runs.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "One table of test AUROC (mean ± sd over seeds) per method and dataset, with paired DeLong tests.",
        discussion: """
        Each RUN is a finished run folder, or a --seeds parent whose seed-* folders are its runs. Rows are \
        the pipelines' names, columns the shards' datasets; runs of the same method and dataset are its \
        seeds. Every two methods on a dataset are compared on the same test records (DeLong's test on \
        each method's score of a record averaged over its seeds): the AUROC difference, its 95% \
        interval and the two-sided p-value.
        """)

    @Argument(help: "Run folders (or --seeds parents).") var runs: [String]
    @Option(help: "markdown, html or csv.") var format: MethodComparison.Format = .markdown
    @Option(help: "Write the table here instead of standard output.") var out: String?
    @Flag(help: "Only the table of means, no paired tests (they read every run's scores).") var noPairs = false

    func run() throws {
        let loaded = try runs.flatMap(ComparedRun.load)
        let text = try MethodComparison(runs: loaded, paired: !noPairs).render(format)
        guard let out else { return print(text, terminator: "") }
        try AtomicFile.write(Data(text.utf8), to: out)
        print("\(out): \(loaded.count) runs compared")
    }
}

extension MethodComparison.Format: ExpressibleByArgument {}
