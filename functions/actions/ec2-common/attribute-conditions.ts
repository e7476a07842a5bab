/**
 * The IAM conditions under which an action may call ModifyInstanceAttribute: which attribute, and the
 * value it may set. Used by the declarations of the actions that change instance attributes.
 */
import type { Conditions } from '#shared/define-action';

/**
 * ModifyInstanceAttribute sets one attribute per call
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html), and EC2 says
 * which in `ec2:Attribute` (its name as the request gives it, `DisableApiTermination`) and the value set in
 * `ec2:Attribute/<Name>`, for attributes with a single `Value`; the key "can't be used with complex objects
 * that contain multiple properties" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-policies-for-amazon-ec2.html#attribute-key;
 * both keys in https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
 * Without conditions the grant would let a function rewrite a stopped instance's user data (cloud-init can
 * be told to run it as root at every start, with the instance's role), or change its type, kernel or groups.
 *
 * Each block requires the attribute's name (`Null`: `ForAllValues` passes when the key is absent) and
 * allows that name only. Names compare ignoring case: the API spells them `disableApiTermination` in its
 * `Attribute` parameter and `DisableApiTermination` as parameters of their own.
 */
export function setsAttribute(names: readonly string[], values?: readonly string[]): Conditions {
  const [name] = names;
  return {
    Null: { 'ec2:Attribute': 'false' },
    'ForAllValues:StringEqualsIgnoreCase': { 'ec2:Attribute': names },
    ...(values && name ? { StringEquals: { [`ec2:Attribute/${name}`]: values } } : {}),
  };
}

/**
 * The block device mappings (`DeleteOnTermination` of the attached volumes) are a list of objects: no
 * condition can say their value. The request parameter is `BlockDeviceMapping` on the wire and
 * `BlockDeviceMappings` in the SDKs, and AWS does not document which `ec2:Attribute` shows: both names
 * denote this one parameter. GAP: a function holding this block may set DeleteOnTermination either way on
 * any attached volume of any instance in this account and region; the code only ever turns it off
 * (protect-evidence) or back to the recorded value (release).
 */
export const BLOCK_DEVICE_MAPPINGS: Conditions = setsAttribute(['BlockDeviceMapping', 'BlockDeviceMappings']);
