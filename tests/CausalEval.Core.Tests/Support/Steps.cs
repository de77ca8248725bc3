using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Support;

/// <summary>Builds decisions, step records and transcripts by hand, for scorer tests.</summary>
internal static class Steps
{
    public static AgentDecision Do(string variable, double value) => AgentDecision.Act(new Intervention(variable, value));

    public static AgentDecision Unreadable(string error = "no ACTION line") => new() { ParseError = error, RawAnswer = "I am not sure." };

    public static AgentDecision Edges(params string[] links)
        => AgentDecision.Answer([.. links.Select(l => DirectedLink.TryParse(l, out var link) ? link : throw new ArgumentException(l))]);

    public static StepRecord Explore(int index, string variable, double value, StepStatus status = StepStatus.Valid)
        => new(index, Phase.Explore, Do(variable, value), status, status == StepStatus.Valid ? null : "not allowed",
            status == StepStatus.Valid ? [0.0] : default);

    public static StepRecord ExploreUnreadable(int index)
        => new(index, Phase.Explore, Unreadable(), StepStatus.ParseFailure, "no ACTION line", default);

    public static StepRecord Exploit(int index, string variable, double value, StepStatus status = StepStatus.Valid)
        => new(index, Phase.Exploit, Do(variable, value), status, status == StepStatus.Valid ? null : "not allowed", default);

    public static StepRecord ExploitUnreadable(int index)
        => new(index, Phase.Exploit, Unreadable(), StepStatus.ParseFailure, "no ACTION line", default);

    public static StepRecord Structure(int index, StepStatus status, params string[] links)
        => new(index, Phase.Structure, Edges(links), status, status == StepStatus.Valid ? null : "bad edge", default);

    public static EpisodeTranscript Transcript(params StepRecord[] steps) => new([.. steps]);

    public static Episode Episode(World world, string target, EpisodeOptions? options = null, string id = "hand-0001", ulong seed = 7)
        => new(id, world, target, seed, options ?? new EpisodeOptions());

    public static ImmutableArray<string> Subset(params string[] names) => [.. names];
}
