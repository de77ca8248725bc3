namespace CausalEval.Models.Tests;

/// <summary>The CLI's side of chat models, run as a process with a controlled environment.</summary>
public class CliTests
{
    [Fact]
    public void A_missing_key_is_bad_input_naming_the_variable_and_leaves_no_run_folder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-nokey-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        try
        {
            var (code, _, stderr) = Cli.Run(folder, new Dictionary<string, string>(),
                "run", "--datasets", Repo.Datasets, "--model", "openai/gpt-4o-mini", "--episodes", "1", "--out", run, "--quiet");

            Assert.Equal(2, code);
            Assert.Contains("error: --model: openai/gpt-4o-mini: OPENAI_API_KEY is not set", stderr);
            Assert.False(Directory.Exists(run));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Attempt_and_call_timeouts_are_options_recorded_in_run_json_and_used_by_the_calls()
    {
        using var server = new LatencyServer(TimeSpan.FromSeconds(5));
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-timeouts-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        try
        {
            var (code, _, stderr) = Cli.Run(folder, new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "k" },
                "run", "--datasets", Repo.Datasets, "--task", "passive-exploit-interventional", "--model", $"openai-compatible/m@{server.BaseUrl}",
                "--prompt", "zero-shot", "--episodes", "1", "--out", run, "--quiet", "--no-cache",
                "--attempt-timeout", "300ms", "--call-timeout", "1s", "--max-response-bytes", "65536");

            Assert.True(code == 1, stderr);
            var policy = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["call_policy"]!;
            Assert.Equal(0.3, policy["attempt_timeout_s"]!.GetValue<double>(), 9);
            Assert.Equal(1.0, policy["call_timeout_s"]!.GetValue<double>(), 9);
            Assert.Equal(65536, policy["max_response_bytes"]!.GetValue<long>());
            var error = System.Text.Json.Nodes.JsonNode.Parse(File.ReadLines(Path.Combine(run, "trials.jsonl")).Single())!["error"]!;
            Assert.Equal("timeout", error["kind"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("--attempt-timeout", "99999999999999s")]
    [InlineData("--call-timeout", "soon")]
    [InlineData("--max-response-bytes", "10")]
    public void A_bad_timeout_or_cap_is_bad_input_naming_the_option_and_leaves_no_run_folder(string option, string value)
    {
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-badtimeout-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        try
        {
            var (code, stdout, stderr) = Cli.Run(folder, new Dictionary<string, string>(),
                "run", "--datasets", Repo.Datasets, "--model", "builtin/expert", "--episodes", "1", "--out", run, "--quiet", option, value);

            Assert.True(code == 2, stdout + stderr);
            Assert.Contains($"error: {option}: {value}:", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.False(Directory.Exists(run));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public void Models_lists_every_provider_and_says_whether_each_variable_is_set_never_its_value()
    {
        var canary = "sk-CANARY-" + Guid.NewGuid().ToString("N");
        var (code, stdout, stderr) = Cli.Run(Path.GetTempPath(), new Dictionary<string, string> { ["OPENAI_API_KEY"] = canary }, "models");

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain(canary, stdout);
        Assert.Matches(@"OPENAI_API_KEY\s+required\s+set\s", stdout);
        Assert.Matches(@"AZURE_OPENAI_ENDPOINT\s+required\s+not set", stdout);
        foreach (var syntax in new[] { "openai/<model>", "azure/<deployment>", "ollama/<model>", "openai-compatible/<model>@<base-url>", "builtin/expert" })
        {
            Assert.Contains(syntax, stdout);
        }
    }

    [Fact]
    public void Resume_replays_only_the_missing_chat_trials_with_the_same_variants_and_names()
    {
        using var fake = FakeProvider.OpenAi("k", (turn, _) => "ACTION: do(A = 5)");
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-resume-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        var environment = new Dictionary<string, string> { ["OPENAI_COMPATIBLE_API_KEY"] = "k" };
        try
        {
            var first = Cli.Run(folder, environment, "run", "--datasets", Repo.Datasets, "--task", "passive-exploit-interventional",
                "--model", $"openai-compatible/m@{fake.Url}/v1", "--model", "builtin/expert", "--prompt", "zero-shot", "--prompt", "few-shot",
                "--names", "nonsense", "--episodes", "2", "--out", run, "--quiet", "--no-cache");
            Assert.True(first.Code == 0, first.Error);
            var trials = Path.Combine(run, "trials.jsonl");
            var lines = File.ReadAllLines(trials);
            Assert.Equal(2 * (2 + 1), lines.Length);
            Assert.Contains("\"naming\": \"nonsense\"", File.ReadAllText(Path.Combine(run, "run.json")));
            File.WriteAllLines(trials, lines.Take(2)); // as if the run had stopped after two trials
            var calls = fake.Bills.Count;

            // Without the response cache, so that every replayed trial calls the server (CacheTests covers the cache).
            var resumed = Cli.Run(folder, environment, "run", "--resume", run, "--datasets", Repo.Datasets, "--quiet", "--no-cache");

            Assert.True(resumed.Code == 0, resumed.Error);
            var after = File.ReadAllLines(trials);
            Assert.Equal(lines.Select(TrialId).Order(), after.Select(TrialId).Order());
            Assert.Equal(2, fake.Bills.Count - calls); // episode 1's two chat trials (one call each); built-ins need none
            Assert.All(after.Skip(2).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!), t =>
                Assert.Equal(t["model"]!.GetValue<string>() == "builtin/expert" ? null : "nonsense", t["naming"]?.GetValue<string>()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static TheoryData<string> ShippedPlans() =>
        [.. Directory.GetFiles(Path.Combine(Repo.Root, "prompts", "plans"), "*.yaml").Select(f => Path.GetFileName(f)).Order()];

    [Theory]
    [MemberData(nameof(ShippedPlans))]
    public void Every_shipped_plan_runs_and_resumes_against_loopback_servers_with_its_settings_and_prices(string planFile)
    {
        string Answer(int turn, System.Text.Json.Nodes.JsonObject _) => "ACTION: do(A = 5)";
        using var openAi = FakeProvider.OpenAi("k-openai", Answer);
        using var azure = FakeProvider.Azure("k-azure", "gpt-4o-mini", "2024-10-21", Answer);
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-plans-" + Guid.NewGuid().ToString("N"));
        var run = Path.Combine(folder, "run");
        var environment = new Dictionary<string, string>
        {
            ["OPENAI_API_KEY"] = "k-openai", ["OPENAI_BASE_URL"] = openAi.Url + "/v1",
            ["AZURE_OPENAI_ENDPOINT"] = azure.Url, ["AZURE_OPENAI_API_KEY"] = "k-azure",
        };
        try
        {
            // The plan as shipped (its models with their settings, prices, limits and budget), on one episode of one task.
            var first = Cli.Run(folder, environment, "run", "--plan", Path.Combine(Repo.Root, "prompts", "plans", planFile), "--datasets", Repo.Datasets,
                "--task", "passive-exploit-interventional", "--episodes", "1", "--epochs", "1", "--out", run, "--quiet", "--no-cache");
            Assert.True(first.Code == 0, first.Error);
            var trials = Path.Combine(run, "trials.jsonl");
            var lines = File.ReadAllLines(trials);
            Assert.True(lines.Length >= 2, $"{lines.Length} trials");
            Assert.True(openAi.Bills.Count > 0, "the plan's OpenAI models were not called");
            File.WriteAllLines(trials, lines.Take(1)); // as if the run had stopped after its first trial
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
            manifest["status"] = "running";
            File.WriteAllText(Path.Combine(run, "run.json"), manifest.ToJsonString());

            var resumed = Cli.Run(folder, environment, "run", "--resume", run, "--datasets", Repo.Datasets, "--quiet", "--no-cache");
            var raised = Cli.Run(folder, environment, "run", "--resume", run, "--datasets", Repo.Datasets, "--quiet", "--no-cache", "--max-cost", "50");

            Assert.True(resumed.Code == 0, resumed.Error);
            Assert.True(raised.Code == 0, raised.Error);
            var after = File.ReadAllLines(trials);
            Assert.Equal(lines.Select(TrialId).Order(), after.Select(TrialId).Order());
            var finished = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
            Assert.Equal("finished", finished["status"]!.GetValue<string>());
            Assert.True(finished["cost_usd"]!.GetValue<double>() > 0, "the plan's priced models cost nothing");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string TrialId(string line) => System.Text.Json.Nodes.JsonNode.Parse(line)!["trial_id"]!.GetValue<string>();
}
