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
/// scheme) and <see cref="Task"/> (whose train split few-shot examples come from) matter to model agents only.
/// </summary>
public sealed record TrialContext(string TrialId, Episode Episode, int Epoch, ulong Seed, string? PromptVariant,
    string? Naming = null, Tasks.TaskDefinition? Task = null);

/// <summary>Makes a fresh agent for each trial.</summary>
public delegate IAgent AgentFactory(TrialContext context);
