using System.Diagnostics;
using System.Text;
using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Output;

namespace CausalEval.Reporting;

/// <summary>What <c>causaleval report</c> reads and where it writes.</summary>
/// <param name="RunDirectories">Run folders (each with run.json and trials.jsonl); several merge into one report.</param>
/// <param name="OutputDirectory">Where the report goes; null: the first run folder.</param>
public sealed record ReportOptions(IReadOnlyList<string> RunDirectories, string? OutputDirectory = null)
{
    /// <summary>
    /// The datasets folder holding the splits the runs played, for the episode browser's truth view (true graphs, the
    /// ideal observer's posteriors); null: located as <c>run</c> does. Without it the view is left out, with a note.
    /// </summary>
    public string? DatasetsDirectory { get; init; }

    /// <summary>Writes one file's bytes (default <see cref="File.WriteAllBytes(string, byte[])"/>); a seam for tests of a full disk.</summary>
    internal Action<string, byte[]> WriteFile { get; init; } = File.WriteAllBytes;

    /// <summary>The statistics phase (default <see cref="ReportModel.Build"/>); a seam for tests of a failing one.</summary>
    internal Func<ReportData, TranscriptSampler, ReportModel> Statistics { get; init; } = ReportModel.Build;

    /// <summary>The truth view (default <see cref="EpisodeTruth.Json"/>); a seam for tests of its cancellation.</summary>
    internal Func<IReadOnlyList<EpisodeTruth.ManifestTaskRef>, IReadOnlyList<byte[]>, string?, List<string>, CancellationToken, byte[]?> Truth { get; init; }
        = (tasks, transcripts, datasets, notes, cancellation) => EpisodeTruth.Json(tasks, transcripts, datasets, notes, cancellation);

    /// <summary>What the truth view needs first and no trial decides, done while the trials are read (default <see cref="EpisodeTruth.Prepare"/>); a seam for tests.</summary>
    internal Action<IReadOnlyList<EpisodeTruth.ManifestTaskRef>, string?, CancellationToken> PrepareTruth { get; init; } = EpisodeTruth.Prepare;
}

/// <summary>What a report wrote.</summary>
public sealed record ReportResult(
    string OutputDirectory, IReadOnlyList<string> Files, IReadOnlyList<string> Warnings, long Trials, string OverallMarkdown, TimeSpan Elapsed)
{
    /// <summary>Wall time of each phase (read, analyse, plots, write), for the benchmark figures.</summary>
    public IReadOnlyList<(string Phase, TimeSpan Elapsed)> Phases { get; init; } = [];
}

/// <summary>
/// Builds the report from result files only (it never calls a model): streams every trials.jsonl once, then writes
/// leaderboard.md/.csv, comparisons.csv, ablation.md/.csv (when the runs hold an ablation), plots/ and report.html.
/// Bad input (a missing or malformed file, runs that do not merge) is an <see cref="Core.InputException"/>, raised
/// before anything is written.
/// </summary>
public static class ReportGenerator
{
    public static ReportResult Generate(ReportOptions options)
    {
        var watch = Stopwatch.StartNew();
        var phases = new List<(string, TimeSpan)>();
        var lap = watch.Elapsed;
        void Lap(string phase)
        {
            phases.Add((phase, watch.Elapsed - lap));
            lap = watch.Elapsed;
        }
        if (options.DatasetsDirectory is { } datasets && !Directory.Exists(datasets))
        {
            throw new Core.InputException("--datasets", datasets, "no such folder");
        }
        var runs = RunSet.Load(options.RunDirectories);
        List<EpisodeTruth.ManifestTaskRef> truthTasks = [.. runs.Tasks.Select(t => new EpisodeTruth.ManifestTaskRef(t.Id, t.Version, t.Split, t.DatasetSha256))];
        using var cancelTruth = new CancellationTokenSource();
        // The DAG families' enumeration and priors depend on no trial: they are computed while the trials are read (one
        // core's work), on the core the reading leaves idle. A failure there is met again, and reported, by the truth view.
        var prepared = Task.Run(() => options.PrepareTruth(truthTasks, options.DatasetsDirectory, cancelTruth.Token), cancelTruth.Token);
        ReportData data;
        TranscriptSampler transcripts;
        try
        {
            (data, transcripts) = ReportReader.Read(runs);
        }
        catch
        {
            cancelTruth.Cancel();
            WaitQuietly(prepared);
            throw;
        }
        Lap("read");
        // The truth view (posteriors) needs only the sampled transcripts: it runs beside the statistics and plots, and its
        // phase is the time left to wait for it after them. When they fail, it is cancelled and waited for before the
        // failure propagates: no work left running, no unobserved exception.
        var truthNotes = new List<string>();
        var truthTask = Task.Run(() =>
        {
            WaitQuietly(prepared);
            return options.Truth(truthTasks, transcripts.Result().Trials, options.DatasetsDirectory, truthNotes, cancelTruth.Token);
        }, cancelTruth.Token);
        ReportModel model;
        string title, output;
        var pending = new List<(string Name, byte[] Bytes)>();
        void Write(string name, string text) => pending.Add((name, Encoding.UTF8.GetBytes(text)));
        IReadOnlyList<PlotFile> plots;
        try
        {
            model = options.Statistics(data, transcripts);
            Lap("statistics");
            output = options.OutputDirectory ?? runs.Runs[0].Directory;
            Directory.CreateDirectory(output);

            // Everything is rendered first, then written all at once: a report is all its files or none of them.
            title = runs.Runs.Count == 1 ? $"Leaderboard — run {runs.Runs[0].Manifest.RunId}" : $"Leaderboard — {runs.Runs.Count} runs";
            var leaderboard = LeaderboardFiles.Markdown(model, title);
            Write("leaderboard.md", leaderboard);
            Write("leaderboard.csv", LeaderboardFiles.Csv(model));
            Write("comparisons.csv", ComparisonFiles.Csv(model));
            if (model.Ablation is { } ablation)
            {
                Write("ablation.md", AblationFiles.Markdown(model, ablation));
                Write("ablation.csv", AblationFiles.Csv(ablation));
            }
            plots = Plots.Render(model);
            Lap("plots");
        }
        catch
        {
            cancelTruth.Cancel();
            WaitQuietly(truthTask);
            throw;
        }
        foreach (var plot in plots)
        {
            pending.Add((Path.Combine("plots", plot.Name + ".png"), plot.Png));
            pending.Add((Path.Combine("plots", plot.Name + ".svg"), Encoding.UTF8.GetBytes(plot.Svg)));
        }
        var truth = truthTask.GetAwaiter().GetResult();
        Lap("truth");
        Write("report.html", HtmlReport.Render(model, title, plots, truth, truthNotes));
        var files = WriteAll(output, pending, options.WriteFile);
        Lap("write");

        var overall = new StringBuilder();
        var (header, right, cells) = LeaderboardFiles.Columns(model);
        Format.MarkdownTable(overall, header, right, model.Overall.Select(cells));
        return new ReportResult(output, files, data.Warnings, data.Trials, overall.ToString(), watch.Elapsed) { Phases = phases };
    }

    /// <summary>Waits for work that was cancelled, or whose failure is not the one to report (the report's own is, or the truth view meets it again).</summary>
    private static void WaitQuietly(Task task)
    {
        try
        {
            task.Wait();
        }
        catch (AggregateException)
        {
            // Cancelled, or failed on its own.
        }
    }

    /// <summary>
    /// Writes every file next to its final name (<c>NAME.tmp</c>), and only when all are written renames them into place;
    /// a failed write (a full disk) removes the temporary files and leaves the folder as it was.
    /// </summary>
    internal static List<string> WriteAll(string directory, IReadOnlyList<(string Name, byte[] Bytes)> pending, Action<string, byte[]> write)
    {
        var temps = new List<(string Temp, string Path)>();
        try
        {
            foreach (var (name, bytes) in pending)
            {
                var path = Path.Combine(directory, name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var temp = path + ".tmp";
                temps.Add((temp, path));
                write(temp, bytes);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            foreach (var (temp, _) in temps)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
                {
                    // Nothing more can be done about a file that cannot be removed.
                }
            }
            throw new IOException($"the report could not be written to {directory} ({ex.Message}); no report file was changed", ex);
        }
        foreach (var (temp, path) in temps)
        {
            File.Move(temp, path, overwrite: true);
        }
        return [.. temps.Select(t => t.Path)];
    }
}
