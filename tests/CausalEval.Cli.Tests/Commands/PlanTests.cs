using System.Text.Json.Nodes;
using CausalEval.Runs;
using CausalEval.Cli.Plans;
using CausalEval.Core.Agents;
using CausalEval.Models;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Cli.Tests.Commands;

/// <summary>Plan files: the shipped examples load, bad plans are refused up front naming file, line and field, and a plan runs.</summary>
public class PlanTests
{
    /// <summary>Checks against the repository's tasks and prompts, with made-up keys so that hosted models resolve.</summary>
    private static PlanChecks Checks()
    {
        var library = new PromptLibrary(Path.Combine(Cli.RepoRoot, "prompts"));
        var keys = new Dictionary<string, string>
        {
            [ChatProviders.OpenAiKey] = "sk-test", [ChatProviders.AzureEndpoint] = "https://example.openai.azure.com", [ChatProviders.AzureKey] = "az-test",
        };
        var models = new ModelCatalog([new BuiltinModelProvider(), .. ChatModels.Providers(new ProviderEnvironment(keys.GetValueOrDefault), () => LlmAgentSetup.Create(library))]);
        var tasks = new Core.Tasks.TaskCatalog(Cli.Datasets).TaskIds();
        return new PlanChecks(tasks.Contains, v => PromptLibrary.Families.Any(f => library.Variants(f).Contains(v)), NamingSchemes.All, id => models.Resolve(id));
    }

    [Fact]
    public void The_commercial_benchmark_example_loads_with_its_models_limits_and_budget()
    {
        var plan = PlanLoader.Load(Path.Combine(Cli.RepoRoot, "prompts", "plans", "commercial-benchmark.yaml"), Checks());

        Assert.Equal(5, plan.Tasks!.Count);
        Assert.Equal(["openai/gpt-4o-mini?temperature=0&max_tokens=1024", "openai/gpt-4.1-mini?temperature=0", "azure/gpt-4o-mini", "builtin/expert", "builtin/random"],
            plan.Models);
        Assert.Equal(50, plan.Episodes);
        Assert.Equal(25, plan.MaxCostUsd);
        Assert.Equal(new CallLimits(16, 450, 180000), plan.ModelLimits["openai/gpt-4o-mini?temperature=0&max_tokens=1024"]);
        Assert.Equal(new CallLimits(8, 300, null), plan.ProviderLimits["azure"]);
        Assert.Equal(TimeSpan.FromMinutes(10), plan.Resilience.CallTimeout);
        Assert.Equal(20, plan.Resilience.BreakerMinimumCalls);
        // Every hosted model of the plan has a default price, so its budget can be enforced.
        var prices = PriceTable.Default(Path.Combine(Cli.RepoRoot, "prompts"));
        Assert.All(plan.Models!.Where(m => !m.StartsWith("builtin/", StringComparison.Ordinal)), m => Assert.NotNull(prices.Find(m)));
    }

    [Fact]
    public void The_prompt_ablation_example_loads_with_every_variant_and_its_own_price()
    {
        var plan = PlanLoader.Load(Path.Combine(Cli.RepoRoot, "prompts", "plans", "prompt-ablation.yaml"), Checks());

        Assert.Equal(["zero-shot", "few-shot", "few-shot-explanations", "few-shot-explanations-reasoning"], plan.Prompts);
        Assert.Equal("letters", plan.Names);
        Assert.Equal(2, plan.Epochs);
        Assert.Equal(1UL, plan.Seed);
        var price = Assert.Single(plan.ModelPrices);
        Assert.Equal(("openai/gpt-4o-mini", 0.15, 0.60), (price.Pattern, price.InputPerMillion, price.OutputPerMillion));
        Assert.Equal(TimeSpan.FromMinutes(3), plan.Resilience.AttemptTimeout);
        Assert.Equal(8, plan.Resilience.Retries);
    }

    [Theory]
    [InlineData("tasks: [explore-exploit]\nepisodes: 0\n", "plan.yaml:2: episodes: expected a whole number ≥ 1, found '0'")]
    [InlineData("tasks: [explore-exploit]\nepisode: 3\n", "plan.yaml:2: episode: unknown field (known: tasks, models,")]
    [InlineData("tasks:\n  - explore-exploit\n  - no-such-task\n", "plan.yaml:3: tasks: unknown task 'no-such-task'")]
    [InlineData("models:\n  - builtin/expert\n  - id: builtin/nobody\n", "plan.yaml:3: models[1]: builtin/nobody: unknown built-in agent")]
    [InlineData("models:\n  - id: openai/gpt-4o\n    settings: {temperature: 3}\n", "plan.yaml:2: models[0]: openai/gpt-4o?temperature=3: temperature: '3' is not a number in [0, 2]")]
    [InlineData("models:\n  - id: openai/gpt-4o\n    settings: {top_k: 3}\n", "plan.yaml:3: models[0].settings.top_k: unknown field (known: temperature, max_tokens, seed)")]
    [InlineData("models:\n  - id: openai/gpt-4o\n    price: {input: -1, output: 2}\n", "plan.yaml:3: models[0].price.input: expected a number ≥ 0, found '-1'")]
    [InlineData("prompts: [zero-shot, fancy]\n", "plan.yaml:1: prompts: unknown prompt variant 'fancy'")]
    [InlineData("names: [letters, semantic]\n", "plan.yaml:1: names: one naming scheme per run")]
    [InlineData("limits:\n  attempt_timeout: soon\n", "plan.yaml:2: limits.attempt_timeout: expected a duration")]
    [InlineData("limits:\n  attempt_timeout: 99999999999999s\n", "plan.yaml:2: limits.attempt_timeout: expected a duration from 0.01 s to 24h")]
    [InlineData("limits:\n  circuit_breaker: {break: 1e300}\n", "plan.yaml:2: limits.circuit_breaker.break: expected a duration from 0.5 s to 24h")]
    [InlineData("limits:\n  max_response_bytes: 12\n", "plan.yaml:2: limits.max_response_bytes: expected a whole number")]
    [InlineData("limits:\n  providers:\n    openia: {concurrency: 4}\n", "plan.yaml:3: limits.providers.openia: unknown provider")]
    [InlineData("limits:\n  circuit_breaker: {failure_ratio: 2}\n", "plan.yaml:2: limits.circuit_breaker.failure_ratio: expected a number in [0.01, 1]")]
    [InlineData("split: train\n", "plan.yaml:1: split: unknown split 'train' (expected test or validation)")]
    [InlineData("budget: {max_cost: 5}\n", "plan.yaml:1: budget.max_cost: unknown field (known: max_cost_usd)")]
    [InlineData("tasks: [explore-exploit\nepochs: 2\n", "plan.yaml:")]
    [InlineData("- just\n- a list\n", "plan.yaml:1: $: a plan is a YAML mapping")]
    public async Task A_bad_plan_is_refused_up_front_naming_file_line_and_field_and_creates_nothing(string yaml, string expected)
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.yaml", yaml);
        var run = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--plan", plan, "--datasets", Cli.Datasets, "--out", run, "--no-cache");

        Assert.Equal(2, code);
        Assert.Contains($"error: {Path.Combine(dir.Path, expected)}", stderr);
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("/etc/passwd", "is a file, not a folder")]
    [InlineData("notes.txt", "is a file, not a folder")]
    [InlineData("notes.txt/run", "the run folder cannot be created there")]
    [InlineData("/proc/causaleval-run", "the run folder cannot be created there")]
    public async Task A_plan_out_that_cannot_be_a_run_folder_is_bad_input_naming_the_plan_field(string output, string problem)
    {
        using var dir = new TempDir();
        var notes = dir.File("notes.txt", "mine");
        var plan = dir.File("plan.yaml", $"models: [builtin/expert]\nepisodes: 1\nout: {output}\n");

        var (code, _, stderr) = await Cli.RunAsync("run", "--plan", plan, "--datasets", Cli.Datasets, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains($"error: {plan}:3: out: ", stderr);
        Assert.Contains(problem, stderr);
        Assert.Equal("mine", await File.ReadAllTextAsync(notes));
        Assert.Equal(["notes.txt", "plan.yaml"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task A_plan_runs_and_options_on_the_command_line_override_it()
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.yaml", """
            tasks: [explore-exploit, passive-exploit-interventional]
            models: [builtin/expert, builtin/random]
            episodes: 50
            epochs: 2
            seed: 3
            concurrency: 2
            """);
        var run = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--plan", plan, "--datasets", Cli.Datasets, "--episodes", "4", "--out", run, "--quiet");

        Assert.True(code == 0, stderr);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "run.json")))!;
        Assert.Equal(2 * 4 * 2 * 2, manifest["trials_written"]!.GetValue<long>());
        Assert.Equal(3UL, manifest["seed"]!.GetValue<ulong>());
        Assert.Equal(2, manifest["epochs"]!.GetValue<int>());
        Assert.Equal(0, manifest["cost_usd"]!.GetValue<double>());
        Assert.Null(manifest["call_policy"]); // no chat models: no call policy
        Assert.Null(manifest["max_cost_usd"]);
        Assert.Equal("finished", manifest["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_plan_plays_the_validation_split_it_names_and_a_resume_keeps_it()
    {
        using var dir = new TempDir();
        var plan = dir.File("plan.yaml", "tasks: [explore-exploit-heldout-link]\nmodels: [builtin/expert]\nepisodes: 3\nsplit: validation\n");
        var run = Path.Combine(dir.Path, "run");

        var (code, _, stderr) = await Cli.RunAsync("run", "--plan", plan, "--datasets", Cli.Datasets, "--out", run, "--quiet");
        var resumed = await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, "--quiet");

        Assert.True(code == 0, stderr);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        var task = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(run, "run.json")))!["tasks"]![0]!;
        Assert.Equal("validation", task["split"]!.GetValue<string>());
        Assert.Equal(CausalEval.Core.Tasks.TaskCatalog.Sha256(Path.Combine(Cli.Datasets, "explore-exploit-heldout-link", "validation.jsonl")),
            task["dataset_sha256"]!.GetValue<string>());
        var trials = (await File.ReadAllLinesAsync(Path.Combine(run, "trials.jsonl"))).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["validation-0000", "validation-0001", "validation-0002"], trials.Select(t => t["episode"]!.GetValue<string>()));
        Assert.All(trials, t => Assert.Equal("validation", t["split"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Resume_refuses_a_plan_or_prices()
    {
        using var dir = new TempDir();
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, (await Cli.RunAsync("run", "--datasets", Cli.Datasets, "--episodes", "1", "--quiet", "--out", run)).ExitCode);

        var plan = await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, "--plan", dir.File("p.yaml", "epochs: 2\n"));
        var prices = await Cli.RunAsync("run", "--resume", run, "--datasets", Cli.Datasets, "--prices", "x.json");

        Assert.Equal(2, plan.ExitCode);
        Assert.Contains("--plan: --resume: the resumed run keeps its own plan", plan.Error);
        Assert.Equal(2, prices.ExitCode);
        Assert.Contains("--prices: --resume", prices.Error);
    }
}
