using CausalEval.Core;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Input;

public sealed class ReportReaderTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Trials_are_summed_per_entry_task_and_episode()
    {
        var data = Loaded.Data(
        [
            new TrialSpec { Task = "t", Episode = "e1", Model = "m", Epoch = 1, Normalized = 1, OptimalAction = 1, InputTokens = 10, OutputTokens = 2, Cost = 0.5, Steps = 3, ParseFailures = 1 },
            new TrialSpec { Task = "t", Episode = "e1", Model = "m", Epoch = 2, Normalized = 0.5, OptimalAction = 0, InputTokens = 20, OutputTokens = 3, Cost = 0.25, Steps = 3 },
            new TrialSpec { Task = "t", Episode = "e1", Model = "m", Epoch = 3, Normalized = null, InputTokens = 5 },
            new TrialSpec { Task = "t", Episode = "e1", Model = "m", Variant = "few-shot", Naming = "semantic" },
        ]);

        Assert.Equal(4, data.Trials);
        Assert.Equal([new EntryKey("m", null, null), new EntryKey("m", "few-shot", "semantic")], data.Entries);
        var cell = data.ByEntry[0][0].Cells[0];
        Assert.Equal((3, 2, 1), (cell.Trials, cell.Scored, cell.Errors));
        Assert.Equal(0.75, cell.MeanNormalized);
        Assert.Equal(0.5, cell.MeanOptimal);
        Assert.Equal((35L, 5L, 0.75), (cell.Sums.InputTokens, cell.Sums.OutputTokens, cell.Sums.Cost));
        Assert.Equal((1L, 6L), (cell.ParseFailures, cell.Decisions));
        Assert.Equal(3, data.ByEntry[0][0].LatenciesMs.Count);
    }

    [Fact]
    public void Episodes_are_numbered_by_id_whatever_the_line_order()
    {
        List<TrialSpec> trials = [.. new[] { "e3", "e1", "e2" }.Select(e => new TrialSpec { Task = "t", Episode = e, Model = "m" })];

        var data = Loaded.Data(trials);

        Assert.Equal(["e1", "e2", "e3"], data.EpisodeIds[0]);
    }

    [Fact]
    public void The_same_trial_in_two_runs_counts_once_with_a_warning()
    {
        List<TrialSpec> trials = [new TrialSpec { Task = "t", Episode = "e1", Model = "m" }];
        var a = SyntheticRun.Write(_temp.Sub("a"), trials);
        var b = SyntheticRun.Write(_temp.Sub("b"), [.. trials, new TrialSpec { Task = "t", Episode = "e2", Model = "m" }]);

        var (data, _) = ReportReader.Read(RunSet.Load([a, b]));

        Assert.Equal(2, data.Trials);
        Assert.Equal(1, data.DuplicateTrials);
        Assert.Contains(data.Warnings, w => w.Contains("repeat trial ids", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_that_did_not_finish_is_reported_with_a_warning()
    {
        var run = SyntheticRun.Write(_temp.Sub("a"), [new TrialSpec { Task = "t", Episode = "e1", Model = "m" }]);
        var manifest = CausalEval.Core.Results.RunManifest.Load(run);
        (manifest with { Status = CausalEval.Core.Running.RunStatus.Interrupted, TrialsPlanned = 10, TrialsWritten = 1 }).Save(run);

        var (data, _) = ReportReader.Read(RunSet.Load([run]));

        Assert.Equal(1, data.Trials);
        Assert.Contains("run synthetic-run has status \"interrupted\" (1 of 10 planned trials written, 0 ended in an error): the report covers the trials in its trials.jsonl", data.Warnings);
    }

    [Fact]
    public void A_malformed_line_is_bad_input_naming_file_line_and_field()
    {
        var run = SyntheticRun.Write(_temp.Sub("a"), [new TrialSpec { Task = "t", Episode = "e1", Model = "m" }, new TrialSpec { Task = "t", Episode = "e2", Model = "m" }]);
        var path = Path.Combine(run, "trials.jsonl");
        var lines = File.ReadAllLines(path);
        lines[1] = lines[1].Replace("\"cost\":0", "\"cost\":\"free\"", StringComparison.Ordinal);
        File.WriteAllLines(path, lines);

        var error = Assert.Throws<InputException>(() => ReportReader.Read(RunSet.Load([run])));

        Assert.Equal($"{path}:2", error.Origin);
        Assert.Equal("cost", error.Field);
        Assert.Equal("expected a number, found \"free\"", error.Problem);
    }

    [Fact]
    public void A_trial_of_a_task_the_manifest_does_not_list_is_bad_input()
    {
        var run = SyntheticRun.Write(_temp.Sub("a"), [new TrialSpec { Task = "t", Episode = "e1", Model = "m" }]);
        File.AppendAllText(Path.Combine(run, "trials.jsonl"), SyntheticRun.Line(new TrialSpec { Task = "other", Episode = "e1", Model = "m" }) + "\n");

        var error = Assert.Throws<InputException>(() => ReportReader.Read(RunSet.Load([run])));

        Assert.EndsWith("trials.jsonl:2", error.Origin, StringComparison.Ordinal);
        Assert.Equal("task", error.Field);
    }

    [Fact]
    public void A_torn_last_line_of_an_interrupted_run_is_skipped_with_a_warning()
    {
        var run = SyntheticRun.Write(_temp.Sub("a"), [new TrialSpec { Task = "t", Episode = "e1", Model = "m" }]);
        File.AppendAllText(Path.Combine(run, "trials.jsonl"), SyntheticRun.Line(new TrialSpec { Task = "t", Episode = "e2", Model = "m" })[..60]);

        var (data, _) = ReportReader.Read(RunSet.Load([run]));

        Assert.Equal(1, data.Trials);
        Assert.Contains(data.Warnings, w => w.Contains("incomplete last line", StringComparison.Ordinal));
    }
}
