using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Templates;

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
        var catalog = new ModelCatalog([new BuiltinModelProvider(), .. ChatProviders.Create(new ProviderEnvironment(environment.GetValueOrDefault), () => Repo.Setup)]);
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
                await new Runner(catalog, TimeProvider.System).RunAsync(plan, [new TaskEpisodes(task, [.. Repo.Tasks.LoadTestSplit(taskId, episodes)])],
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
