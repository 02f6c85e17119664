/** Fly.io regions (https://fly.io/docs/reference/regions/), grouped for the prompt. */
export interface Region {
  code: string;
  city: string;
  area: "North America" | "South America" | "Europe" | "Africa" | "Asia Pacific";
}

export const REGIONS: readonly Region[] = [
  { code: "iad", city: "Ashburn, Virginia (US)", area: "North America" },
  { code: "ewr", city: "Secaucus, NJ (US)", area: "North America" },
  { code: "ord", city: "Chicago, Illinois (US)", area: "North America" },
  { code: "dfw", city: "Dallas, Texas (US)", area: "North America" },
  { code: "lax", city: "Los Angeles, California (US)", area: "North America" },
  { code: "sjc", city: "San Jose, California (US)", area: "North America" },
  { code: "yyz", city: "Toronto, Canada", area: "North America" },
  { code: "gru", city: "Sao Paulo, Brazil", area: "South America" },
  { code: "ams", city: "Amsterdam, Netherlands", area: "Europe" },
  { code: "arn", city: "Stockholm, Sweden", area: "Europe" },
  { code: "cdg", city: "Paris, France", area: "Europe" },
  { code: "fra", city: "Frankfurt, Germany", area: "Europe" },
  { code: "lhr", city: "London, United Kingdom", area: "Europe" },
  { code: "jnb", city: "Johannesburg, South Africa", area: "Africa" },
  { code: "bom", city: "Mumbai, India", area: "Asia Pacific" },
  { code: "nrt", city: "Tokyo, Japan", area: "Asia Pacific" },
  { code: "sin", city: "Singapore", area: "Asia Pacific" },
  { code: "syd", city: "Sydney, Australia", area: "Asia Pacific" },
];

export function findRegion(code: string): Region | undefined {
  return REGIONS.find((r) => r.code === code);
}
