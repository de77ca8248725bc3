using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline;

/// <summary>
/// Plays an episode with a trained policy: encodes everything the view shows (passive evidence first, as past
/// explore steps it did not choose; then its own steps) and takes the most likely action of the last token.
/// The only classes left out are slots that name no action of this episode (a variable slot beyond its variables,
/// a value slot beyond its allowed values): the target, variables outside the cued subset and repeated experiments
/// stay choosable, so whatever the network learned — or failed to learn — reaches the engine, which records
/// invalid answers. The structure answer lists every edge whose logit is positive (probability above one half).
/// </summary>
internal sealed class TorchAgent(TorchPolicy policy) : IAgent
{
    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (actions, edges) = policy.Predict(view);
        var brief = view.Brief;
        var shape = policy.Shape;
        if (view.Phase == Phase.Structure)
        {
            var claimed = ImmutableArray.CreateBuilder<DirectedLink>();
            for (var from = 0; from < brief.Variables.Length; from++)
            {
                for (var to = 0; to < brief.Variables.Length; to++)
                {
                    if (from != to && edges[from * shape.MaxVariables + to] > 0)
                    {
                        claimed.Add(new DirectedLink(brief.Variables[from], brief.Variables[to]));
                    }
                }
            }
            return new(AgentDecision.Answer(claimed.ToImmutable()));
        }
        var best = -1;
        for (var c = 0; c < actions.Length; c++)
        {
            var (variable, slot) = shape.Decode(c);
            if (variable < brief.Variables.Length && slot < brief.AllowedValues.Length && (best < 0 || actions[c] > actions[best]))
            {
                best = c;
            }
        }
        var (chosen, value) = shape.Decode(best);
        return new(AgentDecision.Act(new Intervention(brief.Variables[chosen], brief.AllowedValues[value])));
    }
}
