/** Which twin the operator opened in the inspector, and where the map should fly. */

export interface TwinRef {
  model: string;
  id: string;
}

export interface FlyTarget {
  lng: number;
  lat: number;
  /** bumps on every request, so flying to the same place twice still moves the map */
  seq: number;
}

export class Selection {
  #twin = $state.raw<TwinRef | null>(null);
  #fly = $state.raw<FlyTarget | null>(null);
  #seq = 0;

  get twin(): TwinRef | null {
    return this.#twin;
  }

  get flyTarget(): FlyTarget | null {
    return this.#fly;
  }

  open(ref: TwinRef): void {
    if (this.#twin?.model === ref.model && this.#twin.id === ref.id) return;
    this.#twin = { model: ref.model, id: ref.id };
  }

  close(): void {
    this.#twin = null;
  }

  flyTo(lng: number, lat: number): void {
    this.#fly = { lng, lat, seq: ++this.#seq };
  }
}

export function twinKey(model: string, id: string): string {
  return `${model}/${id}`;
}
