using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Agents;

/// <summary>
/// Dasgupta et al.'s "optimal associative" reference: explores like the expert, then exploits by the true observational
/// regression slope of the target on each variable — the world's exact observational covariance, hidden root included,
/// as infinitely many passive observational samples would give it. Privileged (it reads the world, like
/// training-support); <c>builtin/correlational</c> is the same rule on the samples the agent actually saw.
/// </summary>
internal sealed class AssociativeAgent(World world) : IAgent
{
    private SystematicExploration _exploration;

    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        return view.Phase switch
        {
            Phase.Explore => new(_exploration.Decide(view)),
            Phase.Exploit => new(AgentDecision.Act(BuiltinAgents.BestAction(view, (world, view.Brief.Variables), Slope))),
            _ => new(AgentDecision.Answer(CorrelationalAgent.CorrelatedPairs(view.Brief.Variables, (world, view.Brief.Variables), Slope))),
        };
    }

    /// <summary>The true observational slope between two of the brief's variables (by their index in <c>names</c>).</summary>
    private static readonly Func<(World World, ImmutableArray<string> Names), int, int, double> Slope = static (s, cause, effect)
        => ObservationalMoments.RegressionSlope(s.World, s.World.IndexOf(s.Names[cause]), s.World.IndexOf(s.Names[effect]));
}
