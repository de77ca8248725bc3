using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using CausalEval.Runs;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Templates;
using CausalEval.Core.Results;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Datasets => Path.Combine(Root, "datasets");

    public static TaskCatalog Tasks { get; } = new(Datasets);

    public static LlmAgentSetup Setup { get; } = LlmAgentSetup.Create(new PromptLibrary(Path.Combine(Root, "prompts")));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CausalEval.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("repository root not found");
    }
}

/// <summary>Plays trials through the real Runner and result store, and reads back the trial lines.</summary>
internal static class Trials
{
    public static async Task<List<JsonObject>> RunAsync(IReadOnlyDictionary<string, string> environment, string model, string taskId,
        int episodes = 1, IReadOnlyList<string>? variants = null, string naming = "letters")
    {
        var catalog = new ModelCatalog([new BuiltinModelProvider(), .. ChatModels.Providers(new ProviderEnvironment(environment.GetValueOrDefault), () => Repo.Setup)]);
        var task = Repo.Tasks.Load(taskId);
        var plan = new RunPlan
        {
            Tasks = [task],
            Models = [model],
            PromptModels = new HashSet<string> { model },
            PromptVariants = [.. variants ?? [PromptLibrary.DefaultVariant]],
            Naming = naming,
            Concurrency = 1,
            Episodes = episodes,
        };
        var folder = Path.Combine(Path.GetTempPath(), "causaleval-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            await using (var store = new JsonlResultStore(folder))
            {
                await new Runner(catalog, TimeProvider.System).RunAsync(plan, [new TaskEpisodes(task, [.. Repo.Tasks.LoadEpisodes(task, TaskDefinition.TestSplit, episodes)])],
                    store, new Leaderboard());
            }
            return [.. File.ReadAllLines(Path.Combine(folder, JsonlResultStore.FileName)).Select(l => JsonNode.Parse(l)!.AsObject())];
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>Runs the built causaleval executable as a process with exactly the provider variables given (none of the caller's).</summary>
internal static class Cli
{
    public static (int Code, string Out, string Error) Run(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("causaleval did not finish");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// The tool as its own project built it: this test project's output lacks the Microsoft.Extensions assemblies that the
    /// ASP.NET Core shared framework (which WireMock brings in) supplies here but the tool's runtime does not (the
    /// OpenTelemetry SDK needs them). Falls back to the copy in this output.
    /// </summary>
    private static readonly string Executable = OwnBuild() ?? Path.Combine(AppContext.BaseDirectory, "causaleval.dll");

    private static string? OwnBuild()
    {
        // …/tests/CausalEval.Models.Tests/bin/<configuration>/<framework>/ → …/src/CausalEval.Cli/bin/<configuration>/<framework>/
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent;
        if (configuration?.Parent?.Name != "bin")
        {
            return null;
        }
        var path = Path.Combine(Repo.Root, "src", "CausalEval.Cli", "bin", configuration.Name, framework.Name, "causaleval.dll");
        return File.Exists(path) ? path : null;
    }

    /// <summary>Starts the executable without waiting (output redirected: read it, or it may block on a full pipe).</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        Directory.CreateDirectory(workingDirectory);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        // Only the canaries: no key the developer's own environment may hold.
        // No OTLP export either, unless a test asks for it.
        foreach (var name in new[] { "OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_COMPATIBLE_API_KEY", "OLLAMA_HOST",
            "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT" })
        {
            start.Environment.Remove(name);
        }
        // The response cache goes to the test's own folder, never the developer's ~/.cache (a test may name another).
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(workingDirectory, "xdg-cache");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add(Executable);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        if (args is ["run", ..] && !args.Contains("--no-observer") && !args.Contains("--resume"))
        {
            // These tests are about model calls, not the ideal observer (Core's ObserverRunTests are): without this each
            // run process spends about 2 s of Debug CPU and 400 MB enumerating the 5-variable DAG family to score with it.
            // (A resume keeps its run's choice; on the command line the option overrides a plan's.)
            start.ArgumentList.Add("--no-observer");
        }
        return Process.Start(start)!;
    }
}
