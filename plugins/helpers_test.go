package plugins

import "github.com/constellation-chain/constellation/interfaces"

type interfacesPluginInfo = interfaces.PluginInfo

func infoOf(kind string) interfaces.PluginInfo {
	return interfaces.PluginInfo{Kind: interfaces.Kind(kind), Name: "x", Version: "0", APIVersions: []int{1}}
}
