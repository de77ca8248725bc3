using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace CausalEval.Models.Tests;

/// <summary>
/// Whole runs of the real executable against a local fake provider: concurrency limits as the server sees them, the
/// budget, and a run killed with SIGKILL and resumed.
/// </summary>
public class BudgetRunTests
{
    private static readonly Dictionary<string, string> Environment = new() { ["OPENAI_COMPATIBLE_API_KEY"] = "k" };

    private static string Folder(string name) => Path.Combine(Path.GetTempPath(), $"causaleval-{name}-" + Guid.NewGuid().ToString("N"));

    private static List<JsonObject> Trials(string run) =>
        [.. File.ReadAllLines(Path.Combine(run, "trials.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())];

    private static JsonNode Manifest(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;

    [Fact]
    public void The_server_never_sees_more_requests_in_flight_than_the_configured_limit()
    {
        using var server = new LatencyServer(TimeSpan.FromMilliseconds(40));
        var folder = Folder("limits");
        Directory.CreateDirectory(folder);
        var model = $"openai-compatible/m@{server.BaseUrl}";
        var plan = Path.Combine(folder, "plan.yaml");
        File.WriteAllText(plan, $"""
            tasks: [passive-exploit-interventional]
            models:
              - id: {model}
                concurrency: 3
            prompts: [zero-shot]
            episodes: 24
            concurrency: 12
            cache: {"{"} enabled: false {"}"}
            """);
        try
        {
            var limited = Cli.Run(folder, Environment, "run", "--plan", plan, "--datasets", Repo.Datasets, "--out", Path.Combine(folder, "limited"), "--quiet");

            Assert.True(limited.Code == 0, limited.Error);
            Assert.Equal(24, server.Requests);
            Assert.Equal(3, server.MaxInFlight); // twelve trials at once, three calls at once

            using var second = new LatencyServer(TimeSpan.FromMilliseconds(40));
            var plain = Cli.Run(folder, Environment, "run", "--datasets", Repo.Datasets, "--task", "passive-exploit-interventional",
                "--model", $"openai-compatible/m@{second.BaseUrl}", "--prompt", "zero-shot", "--episodes", "24", "--concurrency", "5", "--no-cache",
                "--out", Path.Combine(folder, "plain"), "--quiet");

            Assert.True(plain.Code == 0, plain.Error);
            Assert.InRange(second.MaxInFlight, 2, 5); // --concurrency bounds the calls in flight too
            var policy = Manifest(Path.Combine(folder, "limited"))["call_policy"]!;
            Assert.Equal(3, policy["models"]![model]!["concurrency"]!.GetValue<int>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Max_cost_stops_scheduling_once_the_spend_reaches_it_and_a_resume_with_a_higher_cap_finishes()
    {
        using var server = new LatencyServer(TimeSpan.FromMilliseconds(20));
        var folder = Folder("budget");
        Directory.CreateDirectory(folder);
        var model = $"openai-compatible/m@{server.BaseUrl}";
        var plan = Path.Combine(folder, "plan.yaml");
        // The passive task makes one call per trial: 1,000 input + 20 output tokens at $1,000 per million = $1.02 a trial.
        File.WriteAllText(plan, $"""
            tasks: [passive-exploit-interventional]
            models:
              - id: {model}
                price: {"{"} input: 1000, output: 1000 {"}"}
            prompts: [zero-shot]
            episodes: 20
            concurrency: 2
            budget: {"{"} max_cost_usd: 5 {"}"}
            cache: {"{"} dir: cache {"}"}
            """);
        var run = Path.Combine(folder, "run");
        try
        {
            var (code, stdout, stderr) = Cli.Run(folder, Environment, "run", "--plan", plan, "--datasets", Repo.Datasets, "--out", run, "--quiet");

            Assert.Equal(1, code);
            Assert.Contains($"finish, raise the cap: causaleval run --resume {run} --max-cost", stderr);
            var manifest = Manifest(run);
            Assert.Equal("stopped-by-budget", manifest["status"]!.GetValue<string>());
            var trials = Trials(run);
            Assert.All(trials, t => Assert.Equal(1.02, t["cost"]!.GetValue<double>(), 9));
            // Scheduling stops at $5 (the fifth trial); the trials already in flight (concurrency 2) finish and are paid.
            Assert.InRange(trials.Count, 5, 7);
            Assert.Equal(trials.Sum(t => t["cost"]!.GetValue<double>()), manifest["cost_usd"]!.GetValue<double>(), 6);
            Assert.True(manifest["cost_usd"]!.GetValue<double>() >= 5);
            Assert.Equal(5, manifest["max_cost_usd"]!.GetValue<double>());
            Assert.Equal(1000, manifest["call_policy"]!["prices"]![model]!["input_per_million"]!.GetValue<double>());
            Assert.Contains("cost: $", stdout);

            var resumed = Cli.Run(folder, Environment, "run", "--resume", run, "--datasets", Repo.Datasets, "--max-cost", "100", "--quiet");

            Assert.True(resumed.Code == 0, resumed.Error);
            var all = Trials(run);
            Assert.Equal(20, all.Count);
            Assert.Equal(20, all.Select(t => t["trial_id"]!.GetValue<string>()).Distinct().Count());
            var final = Manifest(run);
            Assert.Equal("finished", final["status"]!.GetValue<string>());
            Assert.Equal(20 * 1.02, final["cost_usd"]!.GetValue<double>(), 6);
            Assert.Equal(100, final["max_cost_usd"]!.GetValue<double>());
            Assert.Equal(20, server.Requests);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_budget_without_a_price_for_a_chat_model_is_bad_input_and_leaves_no_run_folder()
    {
        var folder = Folder("noprice");
        var run = Path.Combine(folder, "run");
        try
        {
            var (code, _, stderr) = Cli.Run(folder, Environment, "run", "--datasets", Repo.Datasets, "--model", "openai-compatible/m@http://127.0.0.1:9/v1",
                "--episodes", "1", "--max-cost", "1", "--out", run);

            Assert.Equal(2, code);
            Assert.Contains("error: --max-cost: 1: no price for openai-compatible/m@http://127.0.0.1:9/v1", stderr);
            Assert.False(Directory.Exists(run));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_run_against_a_fake_provider_killed_with_SIGKILL_resumes_with_every_trial_exactly_once_and_every_line_whole()
    {
        using var server = new LatencyServer(TimeSpan.FromMilliseconds(15));
        var folder = Folder("sigkill");
        var run = Path.Combine(folder, "run");
        var cache = Path.Combine(folder, "cache");
        string[] plan = ["--datasets", Repo.Datasets, "--task", "passive-exploit-interventional", "--task", "explore-exploit",
            "--model", $"openai-compatible/m@{server.BaseUrl}", "--prompt", "zero-shot", "--prompt", "few-shot", "--episodes", "40",
            "--concurrency", "8", "--cache-dir", cache, "--quiet"];
        const int Planned = 2 * 40 * 2;
        Directory.CreateDirectory(folder);
        try
        {
            using (var process = Cli.Start(folder, Environment, ["run", .. plan, "--out", run]))
            {
                var trials = Path.Combine(run, "trials.jsonl");
                var watch = Stopwatch.StartNew();
                while (!(File.Exists(trials) && File.ReadLines(trials).Count() >= 40) && !process.HasExited && watch.Elapsed < TimeSpan.FromMinutes(1))
                {
                    Thread.Sleep(10);
                }
                Assert.False(process.HasExited, "the run finished before it could be killed");
                process.Kill(entireProcessTree: true); // SIGKILL: no clean-up runs, calls in flight are lost
                process.WaitForExit();
            }
            var killedAt = File.ReadAllLines(Path.Combine(run, "trials.jsonl")).Length;
            Assert.Equal("running", Manifest(run)["status"]!.GetValue<string>());

            var (code, _, stderr) = Cli.Run(folder, Environment, "run", "--resume", run, "--datasets", Repo.Datasets, "--quiet");

            Assert.True(code == 0, stderr);
            var lines = File.ReadAllLines(Path.Combine(run, "trials.jsonl"));
            var ids = lines.Select(l => JsonNode.Parse(l)!["trial_id"]!.GetValue<string>()).ToList(); // every line parses whole
            Assert.Equal(Planned, ids.Count);
            Assert.Equal(Planned, ids.Distinct().Count());
            Assert.InRange(killedAt, 1, Planned - 1);
            var manifest = Manifest(run);
            Assert.Equal("finished", manifest["status"]!.GetValue<string>());
            Assert.Equal(Planned, manifest["trials_written"]!.GetValue<long>());
            // Every answer was paid for once: calls finished before the kill came back from the cache; only calls still
            // in flight at the kill (at most one per trial in flight) were asked again.
            var calls = lines.Sum(l => JsonNode.Parse(l)!["steps"]!.AsArray().Count);
            Assert.InRange(server.Requests, calls, calls + 8);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
