package manifest

import "github.com/hashicorp/hcl/v2"

// The raw* structs are what gohcl decodes the manifest into. Attributes are
// kept as *hcl.Attribute (nil when absent) so that each value is checked by
// hand and every problem is reported at the attribute's own range with a
// message that says what to write instead.

type rawFile struct {
	Networks []*rawNetwork `hcl:"network,block"`
	Nodes    []*rawNode    `hcl:"node,block"`
	Plugins  []*rawPlugin  `hcl:"plugin,block"`
}

type rawNetwork struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	Clusters  *hcl.Attribute `hcl:"clusters,optional"`
	Dev       *hcl.Attribute `hcl:"dev,optional"`
	Genesis   *rawGenesis    `hcl:"genesis,block"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

type rawGenesis struct {
	Seed        *hcl.Attribute   `hcl:"seed,optional"`
	Timestamp   *hcl.Attribute   `hcl:"timestamp,optional"`
	Allocations []*rawAllocation `hcl:"allocation,block"`
	Mint        []*rawMint       `hcl:"mint,block"`
	Rotation    []*rawRotation   `hcl:"rotation,block"`
	DefRange    hcl.Range        `hcl:",def_range"`
}

type rawRotation struct {
	Every    *hcl.Attribute `hcl:"every,optional"`
	Seats    *hcl.Attribute `hcl:"seats,optional"`
	MaxCands *hcl.Attribute `hcl:"max_candidates,optional"`
	MinCands *hcl.Attribute `hcl:"min_candidates,optional"`
	DefRange hcl.Range      `hcl:",def_range"`
}

type rawMint struct {
	Reward   *hcl.Attribute `hcl:"reward,optional"`
	Halving  *hcl.Attribute `hcl:"halving,optional"`
	Until    *hcl.Attribute `hcl:"until,optional"`
	DefRange hcl.Range      `hcl:",def_range"`
}

type rawAllocation struct {
	Star     *hcl.Attribute `hcl:"star,optional"`
	Amount   *hcl.Attribute `hcl:"amount,optional"`
	DefRange hcl.Range      `hcl:",def_range"`
}

type rawNode struct {
	Name           string         `hcl:"name,label"`
	NameRange      hcl.Range      `hcl:"name,label_range"`
	KeyFile        *hcl.Attribute `hcl:"key_file,optional"`
	Star           *hcl.Attribute `hcl:"star,optional"`
	ClusterKeyFile *hcl.Attribute `hcl:"cluster_key_file,optional"`
	GalaxyKeyFile  *hcl.Attribute `hcl:"galaxy_key_file,optional"`
	Cluster        *hcl.Attribute `hcl:"cluster,optional"`
	Listen         *hcl.Attribute `hcl:"listen,optional"`
	API            *hcl.Attribute `hcl:"api,optional"`
	Bootstrap      *hcl.Attribute `hcl:"bootstrap,optional"`
	Roles          *hcl.Attribute `hcl:"roles,optional"`
	DefRange       hcl.Range      `hcl:",def_range"`
}

type rawPlugin struct {
	Kind      string         `hcl:"kind,label"`
	KindRange hcl.Range      `hcl:"kind,label_range"`
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	Source    *hcl.Attribute `hcl:"source,optional"`
	Path      *hcl.Attribute `hcl:"path,optional"`
	SHA256    *hcl.Attribute `hcl:"sha256,optional"`
	Config    *rawConfig     `hcl:"config,block"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

// rawConfig keeps the whole config block body undecoded: its schema belongs
// to the plugin and is applied later by DecodeConfig.
type rawConfig struct {
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}
