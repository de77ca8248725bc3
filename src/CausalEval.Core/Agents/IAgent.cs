using CausalEval.Core.Episodes;

namespace CausalEval.Core.Agents;

/// <summary>Chooses the next action of an episode from what it may see. One instance plays one episode.</summary>
public interface IAgent
{
    ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken);
}

/// <summary>
/// What a factory knows when it makes the agent for one trial. <see cref="Episode"/> holds the true world:
/// only privileged reference agents (optimal, training-support) may read it. <see cref="Naming"/> (variable naming
/// scheme) and <see cref="Task"/> (whose train split few-shot examples come from) matter to model agents only;
/// so does <see cref="Meter"/>, where a model agent adds each call's usage as it is made (null: nobody is counting).
/// </summary>
public sealed record TrialContext(string TrialId, TaskEpisode Episode, int Epoch, ulong Seed, string? PromptVariant,
    string? Naming = null, Tasks.TaskDefinition? Task = null, UsageMeter? Meter = null)
{
    /// <summary>The causal-DAG episode, for agents that play only those (runs check families before the first trial).</summary>
    public Episode Dag => Episode as Episode
        ?? throw new NotSupportedException($"episode {Episode.Id} is not a causal-DAG episode, and this agent plays causal-DAG tasks only");
}

/// <summary>Makes a fresh agent for each trial.</summary>
public delegate IAgent AgentFactory(TrialContext context);
