using System.Text.Json;

namespace CausalEval.Cli.Tests.Commands;

public class BaselineCommandTests
{
    [Fact]
    public async Task Models_lists_the_torch_provider_and_its_default_checkpoint()
    {
        var (code, stdout, _) = await Cli.RunAsync("models");

        Assert.Equal(0, code);
        Assert.Contains("torch/default", stdout);
        Assert.Contains("torch/<path>", stdout);
    }

    [Fact]
    public void The_executable_finds_torch_default_in_the_copy_next_to_it_from_any_folder()
    {
        using var dir = new TempDir();
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "models")));

        var (code, stdout, stderr) = Cli.RunProcess(dir.Path, "run", "--task", "explore-exploit-heldout-link", "--model", "torch/default",
            "--episodes", "10", "--quiet", "--no-observer"); // finding the checkpoint is the point, not the observer's scores

        Assert.True(code == 0, stderr);
        Assert.Matches(@"(?m)^1\s+torch/default\s+—\s+10\s", stdout);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "models", "torch", "default", "model.bin")));
    }

    [Fact]
    public async Task Train_writes_a_checkpoint_with_its_card_that_run_can_play()
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ck");

        var (code, stdout, stderr) = await Cli.RunAsync("baseline", "train", "--datasets", Cli.Datasets, "--task", "explore-exploit",
            "--episodes", "40", "--steps", "20", "--seed", "5", "--layers", "1", "--width", "32", "--eval-episodes", "2", "--out", checkpoint);

        Assert.True(code == 0, stderr);
        Assert.Contains("progress: step 20/20", stderr);
        Assert.Contains($"checkpoint: {checkpoint}", stdout);
        using var card = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(checkpoint, "model.json")));
        var root = card.RootElement;
        Assert.Equal(5UL, root.GetProperty("training").GetProperty("seed").GetUInt64());
        Assert.Equal(20, root.GetProperty("training").GetProperty("steps").GetInt32());
        Assert.Equal(1, root.GetProperty("architecture").GetProperty("layers").GetInt32());
        Assert.Equal(32, root.GetProperty("architecture").GetProperty("width").GetInt32());
        Assert.Equal(64, root.GetProperty("architecture").GetProperty("hidden_width").GetInt32());
        Assert.Equal("train", root.GetProperty("data").GetProperty("sources")[0].GetProperty("split").GetString());
        Assert.Equal(5, root.GetProperty("test_scores").GetArrayLength());
        Assert.Equal(5, root.GetProperty("validation_scores").GetArrayLength());
        Assert.Equal("D->B", root.GetProperty("data").GetProperty("sources")[0].GetProperty("excluded_links")[0].GetString());
        Assert.StartsWith("causaleval baseline train", root.GetProperty("training").GetProperty("command").GetString());

        var run = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "explore-exploit", "--model", $"torch/{checkpoint}",
            "--episodes", "3", "--out", Path.Combine(dir.Path, "run"), "--quiet");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains($"torch/{checkpoint}", run.Out);
    }

    [Fact]
    public async Task Train_family_odd_one_out_writes_an_odd_one_out_checkpoint_that_run_plays_on_that_family_only()
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ooo");

        var (code, stdout, stderr) = await Cli.RunAsync("baseline", "train", "--datasets", Cli.Datasets, "--family", "odd-one-out", "--explanations", "on",
            "--episodes", "20", "--steps", "6", "--seeds", "2", "--layers", "1", "--width", "16", "--eval-episodes", "2", "--validation-only", "--out", checkpoint);

        Assert.True(code == 0, stderr);
        Assert.Contains("demonstrations: 20 expert episodes from odd-one-out-confounded (v1, train split; 20 with a confounded exploit trial)", stderr);
        Assert.Contains($"checkpoint: {checkpoint}", stdout);
        using var card = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(checkpoint, "model.json")));
        var root = card.RootElement;
        Assert.Equal("odd-one-out", root.GetProperty("family").GetString());
        Assert.Equal("odd-one-out-transformer", root.GetProperty("architecture").GetProperty("kind").GetString());
        Assert.Equal("on", root.GetProperty("training").GetProperty("explanations").GetString());
        Assert.Equal(6, root.GetProperty("training").GetProperty("steps").GetInt32());
        Assert.Equal("odd-one-out-confounded", root.GetProperty("data").GetProperty("sources")[0].GetProperty("task").GetString());
        Assert.Equal(2, root.GetProperty("seed_study").GetArrayLength());
        // Scored on every odd-one-out task's validation split, and chosen on the trained task's (deconfounded) one.
        Assert.Equal(["odd-one-out", "odd-one-out-confounded", "odd-one-out-heldout-dimension"],
            root.GetProperty("validation_scores").EnumerateArray().Select(s => s.GetProperty("task").GetString()!));
        Assert.Contains("mean validation normalized score of odd-one-out-confounded", root.GetProperty("selection").GetString());

        var run = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "odd-one-out-confounded", "--model", $"torch/{checkpoint}",
            "--episodes", "2", "--out", Path.Combine(dir.Path, "run"), "--quiet");
        Assert.True(run.ExitCode == 0, run.Error);
        var dag = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "explore-exploit", "--model", $"torch/{checkpoint}",
            "--episodes", "2", "--out", Path.Combine(dir.Path, "dag"), "--quiet");
        Assert.Equal(2, dag.ExitCode);
        Assert.Contains("does not play explore-exploit tasks", dag.Error);
    }

    [Theory]
    [InlineData(new[] { "--explanations", "on" }, "applies to --family odd-one-out only")]
    [InlineData(new[] { "--family", "odd-one-out", "--task", "explore-exploit" }, "belongs to the explore-exploit family")]
    [InlineData(new[] { "--family", "odd-one-out", "--data", "observational" }, "interventional")]
    [InlineData(new[] { "--task", "odd-one-out" }, "train it with --family odd-one-out")]
    public async Task Mixing_the_families_recipes_is_bad_input(string[] options, string problem)
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ck");

        var (code, _, stderr) = await Cli.RunAsync(["baseline", "train", "--datasets", Cli.Datasets, .. options, "--episodes", "5", "--steps", "2", "--out", checkpoint, "--quiet"]);

        Assert.Equal(2, code);
        Assert.Contains(problem, stderr);
        Assert.False(Directory.Exists(checkpoint));
    }

    [Fact]
    public async Task Train_with_seeds_scores_each_on_validation_and_keeps_the_best_with_its_seed_study()
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ck");

        var (code, _, stderr) = await Cli.RunAsync("baseline", "train", "--datasets", Cli.Datasets, "--task", "explore-exploit",
            "--episodes", "30", "--steps", "10", "--seed", "3", "--seeds", "2", "--eval-episodes", "2", "--validation-only", "--out", checkpoint, "--quiet");

        Assert.True(code == 0, stderr);
        using var card = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(checkpoint, "model.json")));
        var root = card.RootElement;
        var study = root.GetProperty("seed_study").EnumerateArray().ToList();
        Assert.Equal([3UL, 4UL], study.Select(s => s.GetProperty("seed").GetUInt64()));
        Assert.All(study, s => Assert.Equal(5, s.GetProperty("validation_scores").GetArrayLength()));
        Assert.All(study, s => Assert.Equal(0, s.GetProperty("test_scores").GetArrayLength())); // --validation-only: test never scored
        var best = study.OrderByDescending(s => s.GetProperty("selection_score").GetDouble()).ThenBy(s => s.GetProperty("seed").GetUInt64()).First();
        Assert.Equal(best.GetProperty("seed").GetUInt64(), root.GetProperty("training").GetProperty("seed").GetUInt64());
        Assert.Contains("best of 2 seeds on validation", root.GetProperty("selection").GetString());
    }

    [Fact]
    public async Task Data_lists_the_exact_training_episodes_without_the_heldout_link_or_subsets()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "mix.jsonl");

        var (code, _, stderr) = await Cli.RunAsync("baseline", "data", "--datasets", Cli.Datasets, "--episodes", "25", "--out", file);

        Assert.True(code == 0, stderr);
        var lines = (await File.ReadAllLinesAsync(file)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3 * 25, lines.Count);
        Assert.Equal(["explore-exploit", "explore-exploit-heldout-link", "explore-exploit-heldout-subset"],
            lines.Select(l => l.GetProperty("task").GetString()).Distinct());
        Assert.All(lines, l =>
        {
            Assert.Equal("train", l.GetProperty("split").GetString());
            Assert.DoesNotContain(l.GetProperty("world").GetProperty("edges").EnumerateArray(),
                e => e.GetProperty("from").GetString() == "D" && e.GetProperty("to").GetString() == "B");
            if (l.GetProperty("subset").ValueKind == JsonValueKind.Array)
            {
                var subset = string.Join(",", l.GetProperty("subset").EnumerateArray().Select(v => v.GetString()));
                Assert.DoesNotContain(subset, new[] { "A,B,D", "B,C,E", "A,D,E" });
            }
        });
        Assert.Contains("explore-exploit: 25 episodes", stderr);
        Assert.Contains("for held-out link D->B", stderr);
    }

    [Fact]
    public async Task Evaluate_reports_subset_adherence_and_inference_time_and_leaves_a_run_folder_report_reads()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "eval");

        var (code, stdout, stderr) = await Cli.RunAsync("baseline", "evaluate", "--datasets", Cli.Datasets, "--task", "explore-exploit-heldout-subset",
            "--episodes", "20", "--out", run);

        Assert.True(code == 0, stderr);
        Assert.Contains("| task (test) | episodes | normalized | optimal | coverage | subset adherence |", stdout);
        Assert.Contains("| explore-exploit-heldout-subset | 20 |", stdout);
        Assert.Contains("ms per decision", stdout);
        Assert.Contains($"results: {run}", stdout);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(run, "run.json")));
        Assert.Equal("finished", manifest.RootElement.GetProperty("status").GetString());
        Assert.Equal(["torch/default"], manifest.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(20, File.ReadLines(Path.Combine(run, "trials.jsonl")).Count());
        var report = await Cli.RunAsync("report", run, "--out", Path.Combine(dir.Path, "report"));
        Assert.True(report.ExitCode == 0, report.Error);
    }

    [Theory]
    [InlineData("--seeds", "0", "must be at least 1")]
    [InlineData("--task", "no-such-task", "unknown task")]
    [InlineData("--batch-size", "0", "must be at least 1")]
    [InlineData("--data", "telepathic", "telepathic")]
    [InlineData("--width", "66", "must be a multiple of the 4 attention heads")]
    [InlineData("--layers", "0", "must be at least 1")]
    public async Task Bad_training_input_exits_2_and_writes_no_checkpoint(string option, string value, string problem)
    {
        using var dir = new TempDir();
        var checkpoint = Path.Combine(dir.Path, "ck");

        var (code, _, stderr) = await Cli.RunAsync("baseline", "train", "--datasets", Cli.Datasets, option, value, "--episodes", "5",
            "--steps", "2", "--out", checkpoint, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains(problem, stderr);
        Assert.False(Directory.Exists(checkpoint));
    }

    [Fact]
    public async Task An_unknown_checkpoint_is_bad_input_for_run()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--model", "torch/no-such-checkpoint", "--out", runDir);

        Assert.Equal(2, code);
        Assert.Contains("no checkpoint named 'no-such-checkpoint'", stderr);
        Assert.False(Directory.Exists(runDir));
    }
}
