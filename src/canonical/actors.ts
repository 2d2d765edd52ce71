import { Actor, ActorType } from './canonical-event';

/** What an actor shows of the contact or agent behind it. */
type Party = Pick<Actor, 'externalId' | 'name' | 'email'>;

function actorOf(type: ActorType, party: Party | null): Actor {
  return {
    type,
    externalId: party?.externalId ?? null,
    name: party?.name ?? null,
    email: party?.email ?? null,
  };
}

export function contactActor(contact: Party | null): Actor {
  return actorOf('contact', contact);
}

/** The agent, or an agent known only by the event's meaning. */
export function agentActor(agent: Party | null): Actor {
  return actorOf('agent', agent);
}

export function botActor(): Actor {
  return actorOf('bot', null);
}

export function systemActor(): Actor {
  return actorOf('system', null);
}
