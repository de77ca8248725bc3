using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CausalEval.Cli.Tests.Commands;

public class ResumeTests
{
    // The built-in agents are fast enough to play tens of thousands of trials in seconds, so a run can be stopped mid-way.
    private static readonly string[] BuiltinModels =
        ["--model", "builtin/optimal", "--model", "builtin/expert", "--model", "builtin/random", "--model", "builtin/correlational", "--model", "builtin/training-support"];

    [Fact]
    public async Task Resume_after_a_torn_write_completes_the_run_with_every_trial_exactly_once()
    {
        using var dir = new TempDir();
        var full = Path.Combine(dir.Path, "full");
        var broken = Path.Combine(dir.Path, "broken");
        string[] plan = ["run", "--datasets", Cli.Datasets, "--episodes", "5", "--epochs", "2", "--seed", "5", "--quiet"];
        Assert.Equal(0, (await Cli.RunAsync([.. plan, "--out", full])).ExitCode);
        // The same plan gives the same bytes (RunCommandTests), so a copy of the folder is the run a crash interrupted.
        Directory.CreateDirectory(broken);
        foreach (var file in Directory.GetFiles(full))
        {
            File.Copy(file, Path.Combine(broken, Path.GetFileName(file)));
        }

        // Simulate a crash: 100 whole lines survive, the 101st was cut mid-write, and run.json still says running.
        var lines = await File.ReadAllLinesAsync(Path.Combine(broken, "trials.jsonl"));
        await File.WriteAllTextAsync(Path.Combine(broken, "trials.jsonl"), string.Join('\n', lines[..100]) + "\n" + lines[100][..40]);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(broken, "run.json")))!;
        manifest["status"] = "running";
        await File.WriteAllTextAsync(Path.Combine(broken, "run.json"), manifest.ToJsonString());

        var (code, stdout, stderr) = await Cli.RunAsync("run", "--resume", broken, "--datasets", Cli.Datasets, "--quiet");

        Assert.True(code == 0, stderr);
        Assert.Contains("removed an incomplete last line", stderr);
        Assert.Contains($"resuming", stderr);
        Assert.Equal(Sorted(Path.Combine(full, "trials.jsonl")), Sorted(Path.Combine(broken, "trials.jsonl")));
        Assert.Equal(
            await File.ReadAllTextAsync(Path.Combine(full, "leaderboard.md")).ContinueWith(t => t.Result[t.Result.IndexOf('\n')..]),
            await File.ReadAllTextAsync(Path.Combine(broken, "leaderboard.md")).ContinueWith(t => t.Result[t.Result.IndexOf('\n')..]));
        var resumed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(broken, "run.json")))!;
        Assert.Equal("finished", resumed["status"]!.GetValue<string>());
        Assert.Equal(lines.Length, resumed["trials_written"]!.GetValue<long>());
        Assert.Contains($"({lines.Length} of {lines.Length} trials)", stdout);
    }

    [Fact]
    public async Task Resuming_a_finished_run_plays_nothing()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, (await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "3", "--quiet", "--out", run)).ExitCode);
        var before = await File.ReadAllTextAsync(Path.Combine(run, "trials.jsonl"));

        var (code, _, _) = await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, "--quiet");

        Assert.Equal(0, code);
        Assert.Equal(before, await File.ReadAllTextAsync(Path.Combine(run, "trials.jsonl")));
    }

    [Theory]
    [InlineData("--task", "explore-exploit")]
    [InlineData("--epochs", "3")]
    [InlineData("--seed", "9")]
    public async Task Resume_refuses_options_that_would_change_the_plan(string option, string value)
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, (await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "2", "--quiet", "--out", run)).ExitCode);

        var (code, _, stderr) = await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, option, value);

        Assert.Equal(2, code);
        Assert.Contains($"{option}: --resume: the resumed run keeps its own plan", stderr);
    }

    [Fact]
    public async Task Resume_refuses_a_folder_without_a_manifest_or_a_changed_dataset()
    {
        using var dir = new TempDir();
        var missing = await Cli.RunAsync("run", "--resume", dir.Path, "--datasets", Cli.Datasets);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("run.json", missing.Error);

        var datasets = Path.Combine(dir.Path, "datasets", "explore-exploit");
        Directory.CreateDirectory(datasets);
        File.Copy(Path.Combine(Cli.Datasets, "explore-exploit", "task.json"), Path.Combine(datasets, "task.json"));
        File.Copy(Path.Combine(Cli.Datasets, "explore-exploit", "test.jsonl"), Path.Combine(datasets, "test.jsonl"));
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, (await Cli.RunAsync("run", "--datasets", Path.Combine(dir.Path, "datasets"), "--episodes", "2", "--quiet", "--out", run)).ExitCode);
        var kept = File.ReadLines(Path.Combine(datasets, "test.jsonl")).Take(50).ToArray();
        await File.WriteAllLinesAsync(Path.Combine(datasets, "test.jsonl"), kept);

        var changed = await Cli.RunAsync("run", "--resume", run, "--datasets", Path.Combine(dir.Path, "datasets"));

        Assert.Equal(2, changed.ExitCode);
        Assert.Contains("tasks[0].dataset_sha256", changed.Error);
    }

    [Fact]
    public async Task A_second_resume_of_a_folder_in_use_exits_2_naming_the_process_and_changes_nothing()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, (await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "2", "--quiet", "--out", run)).ExitCode);
        var before = await File.ReadAllTextAsync(Path.Combine(run, "run.json"));

        using (CausalEval.Core.Running.RunFolderLock.Acquire(run, "--resume")) // as the first process holds it while it plays the run
        {
            var (code, _, stderr) = await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, "--quiet");

            Assert.Equal(2, code);
            Assert.Contains($"error: --resume: {run}: the run folder is in use by process {Environment.ProcessId}", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.Equal(before, await File.ReadAllTextAsync(Path.Combine(run, "run.json")));
        }
        Assert.Equal(0, (await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, "--quiet")).ExitCode);
    }

    [Fact]
    public async Task Retry_errors_without_resume_is_bad_input()
    {
        var (code, _, stderr) = await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "1", "--retry-errors", "--quiet");

        Assert.Equal(2, code);
        Assert.Contains("--retry-errors", stderr);
    }

    [Fact]
    public void A_run_killed_with_SIGKILL_resumes_with_every_trial_exactly_once_and_every_line_whole()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        // 5 tasks × 200 episodes × 5 built-in agents × 3 epochs = 15,000 trials (about 15 MB): killed after the first
        // megabyte, far from the end whatever the machine's load (the resume plays the rest, so no larger).
        var start = Cli.StartProcess(dir.Path, ["run", .. BuiltinModels, "--epochs", "3", "--no-observer", "--concurrency", "2", "--quiet", "--out", run]);
        var trials = Path.Combine(run, "trials.jsonl");
        var watch = Stopwatch.StartNew();
        while (!(File.Exists(trials) && new FileInfo(trials).Length > 1_000_000) && !start.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(20);
        }
        Assert.False(start.HasExited, "the run finished before it could be killed; make the plan larger");
        start.Kill(entireProcessTree: true); // SIGKILL: no clean-up runs
        start.WaitForExit();
        var killedAt = File.ReadAllLines(trials).Length;

        var (code, _, stderr) = Cli.RunProcess(dir.Path, "run", "--resume", run, "--quiet");

        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(trials);
        Assert.Equal(15_000, lines.Length);
        Assert.True(killedAt is > 0 and < 15_000, $"killed after {killedAt} lines");
        var ids = lines.Select(l => JsonNode.Parse(l)!["trial_id"]!.GetValue<string>()).ToList(); // every line parses whole
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Ctrl_C_stops_scheduling_records_interrupted_and_prints_the_resume_command()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        using var process = Cli.StartProcess(dir.Path, ["run", .. BuiltinModels, "--epochs", "12", "--no-observer", "--quiet", "--out", run]);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var trials = Path.Combine(run, "trials.jsonl");
        var watch = Stopwatch.StartNew();
        while (!(File.Exists(trials) && new FileInfo(trials).Length > 1_000_000) && !process.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(20);
        }
        Assert.False(process.HasExited, "the run finished before it could be interrupted");

        // Sent from this process (starting `kill` on a loaded machine can take longer than the rest of the run). A suite
        // started in the background by a non-interactive shell (`cmd &`, nohup) passes SIGINT down as ignored, and .NET
        // rightly keeps an ignored SIGINT ignored; SIGTERM takes the same stop path (Program.cs), so send that there.
        Assert.Equal(0, Kill(process.Id, SigIntIgnoredHere() ? SigTerm : SigInt));
        // A hang guard: a stop ends the run within its grace period, so this is generous on a loaded machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);

        var errors = await stderr;
        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}: {errors}");
        Assert.Contains($"finish with: causaleval run --resume {run}", errors);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "run.json")))!;
        Assert.Equal("interrupted", manifest["status"]!.GetValue<string>());
        var lines = await File.ReadAllLinesAsync(trials);
        Assert.Equal(lines.Length, manifest["trials_written"]!.GetValue<long>());
        Assert.All(lines, l => JsonNode.Parse(l));
        Assert.Contains($"({lines.Length} of 60000 trials)", await stdout);
    }

    private const int SigInt = 2;
    private const int SigTerm = 15;

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status), which its children inherit.</summary>
    private static bool SigIntIgnoredHere()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && (ulong.Parse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & (1UL << (SigInt - 1))) != 0;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054 // a plain P/Invoke keeps the test project free of unsafe code
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054

    private static string[] Sorted(string path) =>
        [.. File.ReadLines(path).Select(line =>
        {
            var node = JsonNode.Parse(line)!.AsObject();
            node.Remove("started_at");
            node.Remove("finished_at");
            node.Remove("latency_ms");
            return node.ToJsonString();
        }).Order(StringComparer.Ordinal)];
}
