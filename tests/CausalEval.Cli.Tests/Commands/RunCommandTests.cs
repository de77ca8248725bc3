using System.Text.RegularExpressions;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CausalEval.Cli.Tests.Commands;

public class RunCommandTests
{
    private static readonly string[] TrialFields =
        ["trial_id", "task", "task_version", "split", "episode", "model", "prompt_variant", "epoch", "seed", "target", "steps", "scores", "usage", "cost", "latency_ms", "error"];

    private static readonly string[] ScoreFields =
        ["exploit_value", "optimal_value", "normalized", "optimal_action", "regret", "explore_coverage", "subset_adherence", "structure_f1", "shd", "invalid_actions", "parse_failures"];

    /// <summary>The built-in agents of the default suite (the causal-DAG tasks): all but the odd-one-out shortcut.</summary>
    private static readonly int DagBuiltins = CausalEval.Core.Agents.BuiltinAgents.All.Keys.Count(k => CausalEval.Core.Agents.BuiltinAgents.Plays(k, "explore-exploit"));

    [Fact]
    public async Task The_default_suite_runs_offline_and_writes_trials_manifest_and_leaderboard()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, stdout, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--out", runDir, "--quiet");

        var lines = await File.ReadAllLinesAsync(Path.Combine(runDir, "trials.jsonl"));
        // On failure, say which trial ended in an error and why (the folder is gone once the test ends).
        Assert.True(code == 0, stderr + string.Join("\n", lines.Where(l => !l.Contains("\"error\":null", StringComparison.Ordinal)).Take(3)
            .Select(l => JsonNode.Parse(l)!).Select(t => $"{t["model"]} {t["task"]} {t["episode"]}: {t["error"]?.ToJsonString()}")));
        var agents = DagBuiltins + 1; // every built-in agent that plays causal-DAG tasks + torch/default
        Assert.Equal(5 * 200 * agents, lines.Length); // tasks × episodes × agents
        var first = JsonNode.Parse(lines[0])!.AsObject();
        Assert.All(TrialFields, f => Assert.True(first.ContainsKey(f), $"trial line lacks {f}"));
        Assert.All(ScoreFields, f => Assert.True(first["scores"]!.AsObject().ContainsKey(f), $"scores lack {f}"));
        Assert.Null(first["prompt_variant"]);
        Assert.Equal(0, first["usage"]!["input_tokens"]!.GetValue<long>());
        Assert.Equal(lines.Length, lines.Select(l => JsonNode.Parse(l)!["trial_id"]!.GetValue<string>()).Distinct().Count());

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(runDir, "run.json")));
        var root = manifest.RootElement;
        Assert.Equal("finished", root.GetProperty("status").GetString());
        Assert.Equal(lines.Length, root.GetProperty("trials_written").GetInt64());
        Assert.Equal(5, root.GetProperty("tasks").GetArrayLength());
        Assert.All(root.GetProperty("tasks").EnumerateArray(), t => Assert.Equal(64, t.GetProperty("dataset_sha256").GetString()!.Length));
        Assert.Equal(["causaleval", "run", "--datasets", Cli.Datasets, "--out", runDir, "--quiet"],
            root.GetProperty("command_line").EnumerateArray().Select(a => a.GetString()!).ToArray());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("git_revision").GetString()));

        var leaderboard = await File.ReadAllTextAsync(Path.Combine(runDir, "leaderboard.md"));
        Assert.Contains("| 1 | builtin/optimal | — | 1000 | 1.000 | 1.000 | 0.000 |", leaderboard);
        // The terminal gets the compact table: one row per agent over all tasks, with the episode-clustered interval.
        Assert.Matches(@"(?m)^1\s+builtin/optimal\s+—\s+1,000\s+1\.000 \[1\.000, 1\.000\]\s+100\.0%\s+0\.0%\s+0$", stdout);
        Assert.Equal(agents, stdout.Split('\n').Count(l => Regex.IsMatch(l, @"^\d+\s+\S")));
        Assert.DoesNotContain("## By task", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_seed_gives_an_identical_trials_file_whatever_the_concurrency()
    {
        using var dir = new TempDir();
        string[] common = ["run", "--datasets", Cli.Datasets, "--episodes", "6", "--epochs", "2", "--quiet"];

        var a = await Cli.RunAsync([.. common, "--seed", "42", "--out", Path.Combine(dir.Path, "a"), "--concurrency", "1"]);
        var b = await Cli.RunAsync([.. common, "--seed", "42", "--out", Path.Combine(dir.Path, "b"), "--concurrency", "8"]);
        var c = await Cli.RunAsync([.. common, "--seed", "43", "--out", Path.Combine(dir.Path, "c")]);

        Assert.Equal((0, 0, 0), (a.ExitCode, b.ExitCode, c.ExitCode));
        var linesA = WithoutTimes(Path.Combine(dir.Path, "a", "trials.jsonl"));
        var linesB = WithoutTimes(Path.Combine(dir.Path, "b", "trials.jsonl"));
        var linesC = WithoutTimes(Path.Combine(dir.Path, "c", "trials.jsonl"));
        Assert.Equal(5 * 6 * (DagBuiltins + 1) * 2, linesA.Length);
        Assert.Equal(linesA, linesB);
        Assert.NotEqual(linesA, linesC);
    }

    [Fact]
    public async Task Split_validation_plays_the_committed_validation_episodes_and_train_is_refused()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--split", "validation", "--task", "explore-exploit",
            "--model", "builtin/optimal", "--episodes", "2", "--out", runDir, "--quiet");
        var train = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--split", "train", "--out", Path.Combine(dir.Path, "train"), "--quiet");

        Assert.True(code == 0, stderr);
        var trials = (await File.ReadAllLinesAsync(Path.Combine(runDir, "trials.jsonl"))).Select(l => JsonNode.Parse(l)!).ToList();
        var committed = File.ReadLines(Path.Combine(Cli.Datasets, "explore-exploit", "validation.jsonl")).Take(2)
            .Select(l => JsonNode.Parse(l)!["target"]!.GetValue<string>()).ToList();
        Assert.Equal(["validation-0000", "validation-0001"], trials.Select(t => t["episode"]!.GetValue<string>()));
        Assert.Equal(committed, trials.Select(t => t["target"]!.GetValue<string>()));
        Assert.All(trials, t => Assert.Equal("validation", t["split"]!.GetValue<string>()));
        Assert.NotEqual(0, train.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "train")));
    }

    [Fact]
    public async Task Task_model_episode_and_epoch_options_select_the_trials()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--task", "passive-exploit-observational",
            "--model", "builtin/correlational", "--model", "builtin/optimal", "--episodes", "7", "--epochs", "3", "--out", runDir, "--quiet");

        Assert.True(code == 0, stderr);
        var trials = (await File.ReadAllLinesAsync(Path.Combine(runDir, "trials.jsonl"))).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(7 * 2 * 3, trials.Count);
        Assert.All(trials, t => Assert.Equal("passive-exploit-observational", t["task"]!.GetValue<string>()));
        Assert.Equal(["builtin/correlational", "builtin/optimal"], trials.Select(t => t["model"]!.GetValue<string>()).Distinct().Order());
        Assert.Equal([1, 2, 3], trials.Select(t => t["epoch"]!.GetValue<int>()).Distinct().Order());
    }

    [Theory]
    [InlineData("--task", "no-such-task", "unknown task")]
    [InlineData("--model", "builtin/oracle", "unknown built-in agent")]
    [InlineData("--model", "builtin/expert?temperature=0.5", "built-in agents take no settings (?temperature=0.5): use builtin/expert")]
    [InlineData("--model", "nowhere/model", "unknown provider 'nowhere'")]
    [InlineData("--episodes", "0", "must be at least 1")]
    [InlineData("--epochs", "0", "must be at least 1")]
    [InlineData("--concurrency", "0", "must be at least 1")]
    [InlineData("--epochs", "many", "many")]
    public async Task Bad_options_exit_2_and_leave_no_run_folder(string option, string value, string problem)
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, option, value, "--out", runDir);

        Assert.Equal(2, code);
        Assert.Contains(problem, stderr);
        Assert.False(Directory.Exists(runDir), "bad input must leave nothing behind");
    }

    [Fact]
    public async Task A_malformed_dataset_line_exits_2_naming_file_line_and_field_and_leaves_no_run_folder()
    {
        using var dir = new TempDir();
        var taskDir = Path.Combine(dir.Path, "datasets", "explore-exploit");
        Directory.CreateDirectory(taskDir);
        File.Copy(Path.Combine(Cli.Datasets, "explore-exploit", "task.json"), Path.Combine(taskDir, "task.json"));
        var lines = File.ReadLines(Path.Combine(Cli.Datasets, "explore-exploit", "test.jsonl")).Take(3).ToArray();
        lines[1] = lines[1].Replace("\"target\":\"", "\"target\":\"Q", StringComparison.Ordinal);
        var dataset = Path.Combine(taskDir, "test.jsonl");
        await File.WriteAllLinesAsync(dataset, lines);
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Path.Combine(dir.Path, "datasets"), "--out", runDir);

        Assert.Equal(2, code);
        Assert.Contains($"{dataset}:2: target:", stderr);
        Assert.False(Directory.Exists(runDir));
    }

    [Fact]
    public async Task A_datasets_folder_without_tasks_is_bad_input_not_a_run_of_nothing()
    {
        using var dir = new TempDir();
        var empty = Path.Combine(dir.Path, "datasets");
        Directory.CreateDirectory(empty);
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", empty, "--model", "builtin/expert", "--out", runDir);

        Assert.Equal(2, code);
        Assert.Contains($"error: --datasets: {empty}: no tasks here", stderr);
        Assert.False(Directory.Exists(runDir));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("file/run")]
    [InlineData("/proc/causaleval-x")]
    public async Task An_out_path_that_cannot_be_a_run_folder_is_bad_input_without_a_stack_trace(string where)
    {
        using var dir = new TempDir();
        dir.File("file", "not a folder\n");
        var runDir = where.StartsWith('/') ? where : Path.Combine(dir.Path, where);

        var (code, stdout, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--model", "builtin/expert", "--episodes", "1", "--out", runDir);

        Assert.True(code == 2, stdout + stderr);
        Assert.Contains($"error: --out: {runDir}:", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal("not a folder\n", await File.ReadAllTextAsync(Path.Combine(dir.Path, "file")));
    }

    [Fact]
    public async Task A_non_empty_output_folder_is_refused()
    {
        using var dir = new TempDir();
        dir.File("run/trials.jsonl", "{}\n");

        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "1", "--out", Path.Combine(dir.Path, "run"));

        Assert.Equal(2, code);
        Assert.Contains("not empty", stderr);
        Assert.Equal("{}\n", await File.ReadAllTextAsync(Path.Combine(dir.Path, "run", "trials.jsonl")));
    }

    [Fact]
    public async Task The_leaderboard_matches_its_snapshot()
    {
        using var dir = new TempDir();
        var runDir = Path.Combine(dir.Path, "run");

        var (code, _, _) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "10", "--seed", "7", "--out", runDir, "--quiet");

        Assert.Equal(0, code);
        var actual = string.Join('\n', (await File.ReadAllLinesAsync(Path.Combine(runDir, "leaderboard.md"))).Skip(1));
        var snapshotPath = Path.Combine(Cli.RepoRoot, "tests", "CausalEval.Cli.Tests", "Snapshots", "leaderboard-10-episodes-seed-7.md");
        Assert.Equal((await File.ReadAllTextAsync(snapshotPath)).ReplaceLineEndings("\n").TrimEnd(), actual.TrimEnd());
    }

    [Fact]
    public async Task The_executable_runs_from_any_folder_with_plain_progress_when_redirected()
    {
        using var dir = new TempDir();

        var (code, stdout, stderr) = Cli.RunProcess(dir.Path, "run", "--task", "explore-exploit", "--model", "builtin/expert", "--episodes", "20");

        Assert.True(code == 0, stderr);
        Assert.Contains("progress: 20/20 trials (100%)", stderr);
        Assert.Matches(@"(?m)^1\s+builtin/expert\s+—\s+20\s+1\.000 \[1\.000, 1\.000\]\s+100\.0%\s+0\.0%\s+0$", stdout);
        var runs = Directory.GetDirectories(Path.Combine(dir.Path, "results"));
        Assert.Single(runs);
        Assert.True(File.Exists(Path.Combine(runs[0], "trials.jsonl")));
    }

    /// <summary>Trial lines without their timestamps and latency, the only fields allowed to differ between runs.</summary>
    private static string[] WithoutTimes(string path) =>
        [.. File.ReadLines(path).Select(line =>
        {
            var node = JsonNode.Parse(line)!.AsObject();
            node.Remove("started_at");
            node.Remove("finished_at");
            node.Remove("latency_ms");
            return node.ToJsonString();
        })];
}
