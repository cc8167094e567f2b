public import SDataPluginAPI
import DataGoKr
import DataGovSG
import DataTaipei
import FileSource
import HTTPJSON
import RSSAtom
import SeoulOpenAPI
import Singer
import XMLFeed

/// The source plugins built into `sdata`: the one place that names them.
public enum Builtins {
    public static var registry: PluginRegistry {
        PluginRegistry([
            FileSource.self, SeoulOpenAPI.self, DataGoKr.self, DataTaipei.self, DataGovSG.self, HTTPJSON.self,
            XMLFeed.self, FeedSource.self, SingerTap.self,
        ])
    }
}
