using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Templates;
using Microsoft.Extensions.AI;

namespace CausalEval.Prompts.Stats;

/// <summary>What one variant × naming scheme costs for one episode, in estimated tokens.</summary>
internal sealed record PromptCost(string Variant, string Naming, int FirstPromptTokens, int EpisodeInputTokens, int Calls);

/// <summary>
/// Prices the prompt ablations for one episode (<c>causaleval prompts stats</c>): each variant × naming scheme plays the
/// episode with a stand-in model that answers as <c>builtin/expert</c> would, and the prompt sent at each call is counted.
/// Tokens are estimated as ⌈characters / 4⌉ — a rule of thumb for English under OpenAI's tokenizers, not a count.
/// </summary>
internal static class PromptStats
{
    public static int EstimateTokens(int characters) => (characters + 3) / 4;

    public static async Task<IReadOnlyList<PromptCost>> MeasureAsync(PromptLibrary prompts, TaskDefinition task, TaskEpisode episode,
        IEnumerable<string> variants, IEnumerable<string> namings, CancellationToken cancellationToken = default)
    {
        var expert = await PlayAsync(episode, BuiltinAgents.All["expert"].Create(new TrialContext("stats", episode, 1, 1, null, null, task)), cancellationToken)
            .ConfigureAwait(false);
        var brief = episode is OddOneOutEpisode puzzle ? puzzle.Brief : ((Episode)episode).Brief;
        var setup = LlmAgentSetup.Create(prompts);
        var costs = new List<PromptCost>();
        foreach (var variant in variants)
        {
            foreach (var naming in namings)
            {
                var names = NamingSchemes.For(naming, brief.Variables, prompts.Names(naming), $"{task.Id}/{episode.Id}");
                var client = new ExpertStandIn(expert, names);
                var agent = LlmAgent.Factory(client, setup, ModelSettings.Default)(new TrialContext("stats", episode, 1, 1, variant, naming, task));
                await PlayAsync(episode, agent, cancellationToken).ConfigureAwait(false);
                costs.Add(new PromptCost(variant, naming, EstimateTokens(client.PromptCharacters[0]), EstimateTokens(client.PromptCharacters.Sum()), client.PromptCharacters.Count));
            }
        }
        return costs;
    }

    private static ValueTask<EpisodeTranscript> PlayAsync(TaskEpisode episode, IAgent agent, CancellationToken cancellationToken) => episode is OddOneOutEpisode puzzle
        ? OddOneOutEngine.RunAsync(puzzle, agent, cancellationToken)
        : EpisodeEngine.RunAsync((Episode)episode, agent, 1, cancellationToken);

    public static string ToMarkdown(IReadOnlyList<PromptCost> costs, TaskDefinition task, TaskEpisode episode)
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"Estimated prompt tokens (⌈characters / 4⌉) for {task.Id} {episode.Id}, answered as builtin/expert would:\n\n");
        builder.Append("| variant | names | first prompt | input over the episode | calls |\n|---|---|---:|---:|---:|\n");
        foreach (var c in costs)
        {
            builder.Append(CultureInfo.InvariantCulture, $"| {c.Variant} | {c.Naming} | {c.FirstPromptTokens:N0} | {c.EpisodeInputTokens:N0} | {c.Calls} |\n");
        }
        return builder.ToString();
    }

    /// <summary>Answers each call with the expert's answer for that step, in shown names; counts the characters it was sent.</summary>
    private sealed class ExpertStandIn(EpisodeTranscript expert, NameMap names) : IChatClient
    {
        public List<int> PromptCharacters { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            PromptCharacters.Add(messages.Sum(m => m.Text.Length));
            var step = expert.Steps[PromptCharacters.Count - 1];
            var answer = step.Decision.Move is { } move
                ? move.Kind == MoveKind.Transform ? $"ACTION: transform({names.Show(move.Object)}, {move.Dimension?.Name()})" : $"ACTION: pick({names.Show(move.Object)})"
                : step.Phase == Phase.Structure
                ? "EDGES: " + (step.Decision.Edges is { Length: > 0 } edges ? string.Join(", ", edges.Select(e => $"{names.Show(e.From)}->{names.Show(e.To)}")) : "none")
                : $"ACTION: do({names.Show(step.Action!.Value.Variable)} = {step.Action.Value.Value.ToString(CultureInfo.InvariantCulture)})";
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, answer)));
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var update in (await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false)).ToChatResponseUpdates())
            {
                yield return update;
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
