using System.CommandLine;
using System.Globalization;
using CausalEval.Reporting;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval report RUN_DIR... [--out DIR]</c>: leaderboards, comparisons, ablation, plots and report.html from result files.</summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var runs = new Argument<string[]>("RUN_DIR") { Description = "Run folders (run.json + trials.jsonl); several merge when their task versions match", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out") { Description = "Report folder (default: the first run folder)" };
        var datasets = CommonOptions.Datasets();
        var command = new Command("report", "Write leaderboard.md/.csv, comparisons.csv, ablation.md/.csv, plots/ and report.html from run folders")
        {
            runs, output, datasets,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var result = ReportGenerator.Generate(new ReportOptions(parse.GetValue(runs)!, parse.GetValue(output)) { DatasetsDirectory = parse.GetValue(datasets) });
            foreach (var warning in result.Warnings)
            {
                await console.Error.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
            }
            await console.Out.WriteAsync(result.OverallMarkdown).ConfigureAwait(false);
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"\nreport: {Path.Combine(result.OutputDirectory, "report.html")} ({result.Trials:N0} trials, {result.Files.Count} files, {result.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", result.Phases.Select(p => $"{p.Phase} {p.Elapsed.TotalSeconds:0.00} s"))})")).ConfigureAwait(false);
            return CliApp.Ok;
        });
        return command;
    }
}
