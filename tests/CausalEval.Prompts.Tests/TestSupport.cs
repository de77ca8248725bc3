using System.Runtime.CompilerServices;
using System.Text;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;
using Microsoft.Extensions.AI;

namespace CausalEval.Prompts.Tests;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Datasets => Path.Combine(Root, "datasets");

    public static TaskCatalog Tasks { get; } = new(Datasets);

    public static PromptLibrary Prompts { get; } = new(Path.Combine(Root, "prompts"));

    public static (TaskDefinition Task, Episode Episode) TestEpisode(string taskId, int index = 0) =>
        (Tasks.Load(taskId), Tasks.LoadTestSplit(taskId, index + 1).Last());

    public static string SnapshotPath(string name, [CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Snapshots", name);

    /// <summary>
    /// Compares with the committed snapshot. A missing snapshot is written and the test fails (review it, commit it);
    /// UPDATE_SNAPSHOTS=1 rewrites them all.
    /// </summary>
    public static void MatchSnapshot(string name, string actual)
    {
        var path = SnapshotPath(name);
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1" || !File.Exists(path))
        {
            var existed = File.Exists(path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual, new UTF8Encoding(false));
            Assert.True(existed, $"snapshot {name} was missing and has been written; review and commit it");
            return;
        }
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual);
    }

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

/// <summary>A chat model that answers from a script and bills made-up but known usage.</summary>
internal sealed class ScriptedChatClient(Func<int, IReadOnlyList<ChatMessage>, string> script) : IChatClient
{
    public List<IReadOnlyList<ChatMessage>> Requests { get; } = [];

    public List<ChatOptions?> Options { get; } = [];

    public List<UsageDetails> Billed { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        lock (Requests)
        {
            var call = Requests.Count;
            Requests.Add(list);
            Options.Add(options);
            var usage = new UsageDetails { InputTokenCount = 1000 + call, OutputTokenCount = 10 + call };
            Billed.Add(usage);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, script(call, list))) { Usage = usage });
        }
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

internal static class Play
{
    public static readonly LlmAgentSetup Setup = LlmAgentSetup.Create(Repo.Prompts);

    /// <summary>The names an episode is shown under (as the agent computes them).</summary>
    public static NameMap Names(TaskDefinition task, Episode episode, string scheme) =>
        NamingSchemes.For(scheme, episode.Brief.Variables, Repo.Prompts.Names(scheme), $"{task.Id}/{episode.Id}");

    public static async Task<EpisodeTranscript> EpisodeAsync(TaskDefinition task, Episode episode, IChatClient client, string variant,
        string naming = NamingSchemes.Letters, ModelSettings? settings = null)
    {
        var context = new TrialContext("trial", episode, 1, 42, variant, naming, task);
        var agent = LlmAgent.Factory(client, Setup, settings ?? ModelSettings.Default)(context);
        return await EpisodeEngine.RunAsync(episode, agent, 7);
    }

    /// <summary>The whole conversation as the model saw it at its last call, plus its last answer.</summary>
    public static string Conversation(ScriptedChatClient client, EpisodeTranscript transcript)
    {
        var builder = new StringBuilder();
        foreach (var message in client.Requests[^1])
        {
            builder.Append("### ").Append(message.Role.Value).Append('\n').Append(message.Text).Append("\n\n");
        }
        builder.Append("### assistant\n").Append(transcript.Steps[^1].Decision.RawAnswer).Append('\n');
        return builder.ToString();
    }
}
